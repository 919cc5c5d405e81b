"""`render(directory)`: a kustomization built in Python, the subset of kustomize that deploy/k8s/ uses.

No kustomize or kubectl binary installs from the package index here, so the tests build the
manifests themselves, as `kubectl kustomize` would: `resources` (files, and directories holding a
kustomization), `configMapGenerator` and `secretGenerator` (`envs`, `files`, `literals`, `behavior`
create/merge/replace, `options`), `generatorOptions`, `patches` (strategic merge, by the patch's own
kind and name), `namespace` and `images`. Generated names get kustomize's content hash suffix and
every reference to them in a pod spec follows. Like kustomize's default load restrictor, a
generator's file must lie inside its kustomization's directory.

Anything else in a kustomization is refused (`Unsupported`) rather than ignored, so a feature the
manifests start to use is either added here or caught, never silently skipped.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Object = dict[str, Any]
KNOWN_KEYS = frozenset(
    {
        "apiVersion",
        "kind",
        "resources",
        "namespace",
        "images",
        "configMapGenerator",
        "secretGenerator",
        "generatorOptions",
        "patches",
    }
)
KUSTOMIZATION = "kustomization.yaml"
# Kinds the manifests may hold that have no namespace.
CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass"})


class Unsupported(ValueError):
    """The kustomization uses something this renderer does not do (or kustomize refuses)."""


@dataclass
class _Build:
    objects: list[Object] = field(default_factory=list)
    # ids (kind, name) of generated objects whose names get the hash suffix at the end.
    hashed: set[tuple[str, str]] = field(default_factory=set)


def render(directory: Path) -> list[Object]:
    """The objects `kubectl kustomize directory` prints, in the order of their sources."""
    build = _build(directory)
    return _suffix_names(build)


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _inside(root: Path, relative: str) -> Path:
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise Unsupported(f"{relative}: outside {root} (kustomize's load restrictor refuses it)")
    return path


def _build(directory: Path) -> _Build:
    kustomization = _load(directory / KUSTOMIZATION)
    if unknown := sorted(set(kustomization) - KNOWN_KEYS):
        raise Unsupported(f"{directory / KUSTOMIZATION}: {unknown} not supported by this renderer")
    build = _Build()
    for entry in kustomization.get("resources") or []:
        source = directory / entry
        if source.is_dir():
            inner = _build(source)
            build.objects += inner.objects
            build.hashed |= inner.hashed
        else:
            _inside(directory, entry)
            build.objects += [o for o in yaml.safe_load_all(source.read_text(encoding="utf-8")) if o]
    options = kustomization.get("generatorOptions") or {}
    for kind, key in (("ConfigMap", "configMapGenerator"), ("Secret", "secretGenerator")):
        for generator in kustomization.get(key) or []:
            _generate(build, directory, kind, generator, options)
    for patch in kustomization.get("patches") or []:
        _patch(build, directory, patch)
    if namespace := kustomization.get("namespace"):
        for obj in build.objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj.setdefault("metadata", {})["namespace"] = namespace
    for image in kustomization.get("images") or []:
        _set_image(build.objects, image)
    return build


def _env_file(path: Path) -> dict[str, str]:
    """kustomize's env file: `KEY=VALUE` lines, `#` comments and blank lines skipped, the value as written."""
    data: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        if not equals:  # kustomize would read the value from its own environment: never wanted here
            raise Unsupported(f"{path}:{number}: {key!r} has no value")
        data[key.strip()] = value
    return data


def _literal(source: str) -> tuple[str, str]:
    key, equals, value = source.partition("=")
    if not equals:
        raise Unsupported(f"literal {source!r} has no value")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return key, value


def _generator_data(directory: Path, generator: Object) -> dict[str, str]:
    data: dict[str, str] = {}
    for env in generator.get("envs") or []:
        data |= _env_file(_inside(directory, env))
    for source in generator.get("files") or []:
        key, equals, path = str(source).partition("=")
        key, path = (key, path) if equals else (Path(key).name, key)
        data[key] = _inside(directory, path).read_text(encoding="utf-8")
    for literal in generator.get("literals") or []:
        key, value = _literal(literal)
        data[key] = value
    return data


def _generate(build: _Build, directory: Path, kind: str, generator: Object, options: Object) -> None:
    name = generator["name"]
    data = _generator_data(directory, generator)
    if kind == "Secret":
        data = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    behavior = generator.get("behavior", "create")
    existing = next((o for o in build.objects if (o["kind"], o["metadata"]["name"]) == (kind, name)), None)
    if behavior == "create":
        if existing is not None:
            raise Unsupported(f"{kind} {name} generated twice (behavior: create)")
        obj: Object = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, "data": data}
        if kind == "Secret":
            obj["type"] = generator.get("type", "Opaque")
        build.objects.append(obj)
    elif behavior in ("merge", "replace"):
        if existing is None:
            raise Unsupported(f"{kind} {name}: behavior {behavior} but no such object to {behavior}")
        existing["data"] = (existing.get("data") or {}) | data if behavior == "merge" else data
        obj = existing
    else:
        raise Unsupported(f"{kind} {name}: unknown behavior {behavior!r}")
    merged = options | (generator.get("options") or {})
    if labels := merged.get("labels"):
        obj["metadata"].setdefault("labels", {}).update(labels)
    if annotations := merged.get("annotations"):
        obj["metadata"].setdefault("annotations", {}).update(annotations)
    if merged.get("disableNameSuffixHash"):
        build.hashed.discard((kind, name))
    else:
        build.hashed.add((kind, name))


def merge_patch(target: Any, patch: Any) -> Any:
    """Strategic merge, the part these manifests need: maps merged key by key, lists of named maps
    (containers, env, volumes, ports) merged by `name`, other lists and scalars replaced."""
    if isinstance(target, dict) and isinstance(patch, dict):
        if "$patch" in patch:
            raise Unsupported("$patch directives are not supported")
        merged = dict(target)
        for key, value in patch.items():
            merged[key] = merge_patch(target[key], value) if key in target else copy.deepcopy(value)
        return merged
    if isinstance(target, list) and isinstance(patch, list) and _named(target) and _named(patch):
        by_name = {item["name"]: item for item in target}
        result = [merge_patch(by_name[p["name"]], p) if p["name"] in by_name else p for p in patch]
        patched = {p["name"] for p in patch}
        return [item for item in target if item["name"] not in patched] + result
    return copy.deepcopy(patch)


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, dict) and "name" in item for item in items)


def _patch(build: _Build, directory: Path, entry: Object) -> None:
    if "target" in entry or "patch" in entry:
        raise Unsupported("patches: only `path:` to a strategic merge patch naming its own target")
    patch = _load(_inside(directory, entry["path"]))
    if not isinstance(patch, dict):
        raise Unsupported(f"{entry['path']}: JSON 6902 patches are not supported")
    key = (patch["kind"], patch["metadata"]["name"])
    for index, obj in enumerate(build.objects):
        if (obj["kind"], obj["metadata"]["name"]) == key:
            build.objects[index] = merge_patch(obj, patch)
            return
    raise Unsupported(f"{entry['path']}: no {key[0]} {key[1]} to patch")


def containers(obj: Object) -> Iterator[Object]:
    """Every container of a workload's pod template (init containers too)."""
    spec = obj.get("spec", {}).get("template", {}).get("spec", {})
    yield from spec.get("initContainers") or []
    yield from spec.get("containers") or []


def split_image(reference: str) -> tuple[str, str]:
    """`registry:5000/app:1.0` as (`registry:5000/app`, `:1.0`); a digest as `@sha256:...`."""
    if "@" in reference:
        name, digest = reference.split("@", 1)
        return name, "@" + digest
    colon = reference.rfind(":")
    return (reference[:colon], reference[colon:]) if colon > reference.rfind("/") else (reference, "")


def _set_image(objects: list[Object], image: Object) -> None:
    for obj in objects:
        for container in containers(obj):
            name, suffix = split_image(container.get("image", ""))
            if name != image["name"]:
                continue
            new = image.get("newName", name)
            if digest := image.get("digest"):
                suffix = "@" + digest
            elif tag := image.get("newTag"):
                suffix = f":{tag}"
            container["image"] = new + suffix


def _go_json(value: object) -> str:
    """`encoding/json.Marshal` of maps and strings: sorted keys, no spaces, HTML characters escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def content_hash(obj: Object) -> str:
    """kustomize's name suffix (api/hasher): sha256 of the object's kind, name, (type) and data as
    JSON, its first 10 hex digits with 0 1 3 a e spelled g h k m t."""
    encoded: Object = {"kind": obj["kind"], "name": obj["metadata"]["name"], "data": obj.get("data") or {}}
    if obj["kind"] == "Secret":
        encoded["type"] = obj.get("type", "Opaque")
    digest = hashlib.sha256(_go_json(encoded).encode()).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


def _suffix_names(build: _Build) -> list[Object]:
    renamed: dict[tuple[str, str], str] = {}
    for obj in build.objects:
        key = (obj["kind"], obj["metadata"]["name"])
        if key in build.hashed:
            renamed[key] = f"{key[1]}-{content_hash(obj)}"
            obj["metadata"]["name"] = renamed[key]
    for obj in build.objects:
        pod = obj.get("spec", {}).get("template", {}).get("spec")
        if pod is not None:
            _rename_references(pod, renamed)
    return build.objects


def _rename_references(pod: Object, renamed: dict[tuple[str, str], str]) -> None:
    def follow(ref: Object | None, kind: str, key: str = "name") -> None:
        if ref is not None and (kind, ref.get(key)) in renamed:
            ref[key] = renamed[(kind, ref[key])]

    for container in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]:
        for source in container.get("envFrom") or []:
            follow(source.get("configMapRef"), "ConfigMap")
            follow(source.get("secretRef"), "Secret")
        for env in container.get("env") or []:
            value_from = env.get("valueFrom") or {}
            follow(value_from.get("configMapKeyRef"), "ConfigMap")
            follow(value_from.get("secretKeyRef"), "Secret")
    for volume in pod.get("volumes") or []:
        follow(volume.get("configMap"), "ConfigMap")
        follow(volume.get("secret"), "Secret", "secretName")
        for source in (volume.get("projected") or {}).get("sources") or []:
            follow(source.get("configMap"), "ConfigMap")
            follow(source.get("secret"), "Secret")
