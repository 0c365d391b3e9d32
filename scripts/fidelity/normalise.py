#!/usr/bin/env python3
"""Normalise a built image into the fidelity suite's expected-data form.

The input is a docker-archive (what `docker save` and `buildah push docker-archive:` write).
Its layers are applied in order, in memory (whiteouts and opaque directories included), to
get the image's root file system; the base image's root file system is computed the same
way, and only what the Dockerfile changed is kept:

  files    every path that is new or differs from the base in type, mode, owner, size,
           content (sha256) or link target, sorted by path
  deleted  base paths that are gone
  config   the run-time config fields a Dockerfile can set (empty values dropped)
  history  created_by and empty_layer of the entries after the base image's

Never recorded (they differ between any two builds, or between builders, without meaning):
mtimes, the root directory's own entry, xattrs, the history's created/comment fields.
crates/builder/tests/fidelity.rs normalises rbuild's image the same way, in Rust.

usage: normalise.py image IMAGE.tar BASE.tar MADE_BY > expected.json
       normalise.py base BASE.tar MADE_BY > base.json
       normalise.py diff A.json B.json          (readable differences, exit 1 if any)
"""
import hashlib
import json
import posixpath
import sys
import tarfile

CONFIG_FIELDS = [
    "Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes",
    "Labels", "StopSignal", "Healthcheck", "Shell", "OnBuild",
]
TYPES = {
    tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink", tarfile.FIFOTYPE: "fifo", tarfile.CHRTYPE: "char",
    tarfile.BLKTYPE: "block",
}


def clean_path(name):
    """'./a/b/', '/a/b' and 'a/b' are all '/a/b'; '.' and './' are '/'."""
    return posixpath.normpath("/" + name.lstrip("/"))


def apply_layer(fs, layer):
    """Applies one layer tar (a file object) to fs: path -> entry."""
    with tarfile.open(fileobj=layer, mode="r:*") as tar:
        for member in tar:
            path = clean_path(member.name)
            parent, base = posixpath.split(path)
            if base == ".wh..wh..opq":
                prefix = parent.rstrip("/") + "/"
                for p in [p for p in fs if p.startswith(prefix)]:
                    del fs[p]
                continue
            if base.startswith(".wh."):
                remove_tree(fs, posixpath.join(parent, base[4:]))
                continue
            if member.islnk():
                target = fs.get(clean_path(member.linkname))
                if target is None:
                    raise SystemExit(f"hard link {path} to missing {member.linkname}")
                entry = dict(target)
            else:
                kind = TYPES.get(member.type)
                if kind is None:
                    raise SystemExit(f"unknown tar type {member.type!r} for {path}")
                entry = {
                    "path": path, "type": kind, "mode": "%04o" % (member.mode & 0o7777),
                    "uid": member.uid, "gid": member.gid,
                }
                if kind == "file":
                    data = tar.extractfile(member).read()
                    entry["size"] = len(data)
                    entry["sha256"] = hashlib.sha256(data).hexdigest()
                if kind == "symlink":
                    entry["link"] = member.linkname
                if kind in ("char", "block"):
                    entry["device"] = f"{member.devmajor}:{member.devminor}"
            entry["path"] = path
            old = fs.get(path)
            if old is not None and not (old["type"] == "dir" and entry["type"] == "dir"):
                remove_tree(fs, path)
            fs[path] = entry


def remove_tree(fs, path):
    prefix = path.rstrip("/") + "/"
    for p in [p for p in fs if p == path or p.startswith(prefix)]:
        del fs[p]


def read_archive(path):
    """(config dict, rootfs dict) of the single image in a docker-archive."""
    with tarfile.open(path) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        if len(manifest) != 1:
            raise SystemExit(f"{path}: expected one image, found {len(manifest)}")
        config = json.load(outer.extractfile(manifest[0]["Config"]))
        fs = {}
        for layer in manifest[0]["Layers"]:
            apply_layer(fs, outer.extractfile(layer))
    fs.pop("/", None)
    return config, fs


def config_subset(config):
    run = config.get("config") or {}
    out = {}
    for field in CONFIG_FIELDS:
        value = run.get(field)
        if field in ("ExposedPorts", "Volumes") and isinstance(value, dict):
            value = sorted(value)
        if field == "Healthcheck" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if v not in (None, 0, "", [])}
        if value not in (None, "", [], {}):
            out[field] = value
    if config.get("author"):
        out["author"] = config["author"]
    return out


def history(config, skip):
    return [
        {"created_by": h.get("created_by", ""), "empty_layer": bool(h.get("empty_layer", False))}
        for h in (config.get("history") or [])[skip:]
    ]


def image(image_tar, base_tar, made_by):
    config, fs = read_archive(image_tar)
    base_config, base_fs = read_archive(base_tar)
    files = [fs[p] for p in sorted(fs) if base_fs.get(p) != fs[p]]
    deleted = sorted(p for p in base_fs if p not in fs)
    return {
        "made_by": made_by,
        "config": config_subset(config),
        "history": history(config, len(base_config.get("history") or [])),
        "files": files,
        "deleted": deleted,
    }


def base(base_tar, made_by):
    config, fs = read_archive(base_tar)
    return {
        "made_by": made_by,
        "config": config_subset(config),
        "files": [fs[p] for p in sorted(fs)],
    }


def diff(a_path, b_path):
    a, b = (json.load(open(p)) for p in (a_path, b_path))
    lines = []
    for key in ("config", "history", "deleted"):
        if a.get(key) != b.get(key):
            lines.append(f"{key}:\n  {a_path}: {json.dumps(a.get(key))}\n  {b_path}: {json.dumps(b.get(key))}")
    af = {f["path"]: f for f in a.get("files", [])}
    bf = {f["path"]: f for f in b.get("files", [])}
    for p in sorted(set(af) | set(bf)):
        if af.get(p) != bf.get(p):
            lines.append(f"file {p}:\n  {a_path}: {json.dumps(af.get(p))}\n  {b_path}: {json.dumps(bf.get(p))}")
    print("\n".join(lines))
    return 1 if lines else 0


def main(argv):
    if len(argv) == 5 and argv[1] == "image":
        json.dump(image(argv[2], argv[3], argv[4]), sys.stdout, indent=1, sort_keys=True)
    elif len(argv) == 4 and argv[1] == "base":
        json.dump(base(argv[2], argv[3]), sys.stdout, indent=1, sort_keys=True)
    elif len(argv) == 4 and argv[1] == "diff":
        return diff(argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
