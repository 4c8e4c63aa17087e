"""Static consistency checks for the deployment files.

Neither Docker nor Kubernetes is available where this project is built and tested, so the
Dockerfile, docker-compose.yml, the Kubernetes manifests, the systemd unit and the nginx
configs are never run here. These tests parse them and check that they agree with each
other and with the rest of the repository (ports, environment variables, queue URLs,
packages, proxy settings), so that a change in one place that breaks another is caught.

No server is started; nothing here needs the Swift build.
"""

from __future__ import annotations

import json
import pathlib
import re
import shlex
import urllib.parse

import pytest
import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
K8S_DIR = DEPLOY / "kubernetes"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
INSTALL_DEPS = REPO_ROOT / "scripts" / "install-deps.sh"
SYSTEMD_UNIT = DEPLOY / "systemd" / "socketio-worker@.service"
SYSTEMD_ENV = DEPLOY / "systemd" / "worker.env.example"
NGINX_CONFIGS = {
    "compose": REPO_ROOT / "nginx" / "compose.conf",
    "socketio": REPO_ROOT / "nginx" / "socketio.conf",
}

WORKER_PORT = 5000
# The environment variable the worker reads the queue URL from (BackplaneURL.environmentVariable).
QUEUE_VARIABLE = "SOCKETIO_MESSAGE_QUEUE"
# The worker's probe endpoints (Sources/EngineIO/HTTPHealthEndpoints.swift).
READINESS_PATH = "/readyz"
LIVENESS_PATH = "/healthz"
NGINX_TEMPLATE = REPO_ROOT / "nginx" / "socketio.conf.template"
NGINX_CONFIG_SCRIPT = REPO_ROOT / "scripts" / "nginx-config.sh"
# How each committed config is generated from the template.
NGINX_GENERATOR_ARGS = {
    "compose": ["--listen", "8080", "--prefix", "/tmp/", "worker:5000"],
    "socketio": ["--listen", "127.0.0.1:8080", "127.0.0.1:5001", "127.0.0.1:5002"],
}
COMPOSE_NGINX_PORT = 8080
# Engine.IO defaults: a proxy read timeout at or below this cuts idle but live sessions.
PING_INTERVAL_PLUS_TIMEOUT = 25 + 20
BROKER_LIBS = ("libhiredis", "librabbitmq", "librdkafka")
DEV_PACKAGES = ("libhiredis-dev", "librabbitmq-dev", "librdkafka-dev")


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def k8s_yaml_files() -> list[pathlib.Path]:
    return sorted(K8S_DIR.glob("*.yaml")) + sorted(K8S_DIR.glob("*.yml"))


def load_k8s_objects() -> dict[tuple[str, str], dict]:
    """All manifests under deploy/kubernetes, keyed by (kind, metadata.name)."""
    objects: dict[tuple[str, str], dict] = {}
    for path in k8s_yaml_files():
        if path.name.startswith("kustomization."):
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is None:
                continue
            key = (doc["kind"], doc["metadata"]["name"])
            assert key not in objects, f"{key} defined twice (second time in {path.name})"
            objects[key] = doc
    return objects


def k8s(kind: str, name: str) -> dict:
    objects = load_k8s_objects()
    assert (kind, name) in objects, f"no {kind} named {name!r} in {K8S_DIR}; have {sorted(objects)}"
    return objects[(kind, name)]


def only_container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{deployment['metadata']['name']}: expected one container"
    return containers[0]


def resolve_container_port(container: dict, port: int | str) -> int:
    """A port given by number or by the container port's name, as a number."""
    if isinstance(port, int):
        return port
    named = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    assert port in named, f"container {container['name']!r} has no port named {port!r}"
    return named[port]


def service_port(service: dict) -> dict:
    ports = service["spec"]["ports"]
    assert len(ports) == 1, f"service {service['metadata']['name']}: expected one port"
    return ports[0]


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def compose_command(service: dict) -> list[str]:
    command = service.get("command")
    assert command, "service has no command"
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def value_after(argv: list[str], flag: str) -> str:
    assert flag in argv, f"{flag} missing from {argv}"
    index = argv.index(flag)
    assert index + 1 < len(argv), f"{flag} has no value in {argv}"
    value = argv[index + 1]
    assert value and not value.startswith("--"), f"{flag} has no value in {argv}"
    return value


def compose_default(value: str, variable: str) -> str:
    """The default of a `${VARIABLE:-default}` (or `${VARIABLE-default}`) interpolation."""
    match = re.fullmatch(r"\$\{" + re.escape(variable) + r":?-([^}]*)\}", value)
    assert match, f"{value!r} is not ${{{variable}:-default}}"
    return match.group(1)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with comments dropped and continuations joined."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # comment lines inside a continued instruction are ignored by Docker
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "Dockerfile ends inside a continued line"
    result = []
    for line in logical:
        instruction, _, args = line.partition(" ")
        result.append((instruction.upper(), args.strip()))
    return result


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction, args in dockerfile_instructions():
        if instruction == "FROM":
            stages.append([])
        assert stages, "Dockerfile instruction before the first FROM"
        stages[-1].append((instruction, args))
    return stages


def apt_installed(stage: list[tuple[str, str]]) -> set[str]:
    """Packages named in `apt-get install` commands of the RUN instructions of a stage."""
    packages: set[str] = set()
    for instruction, args in stage:
        if instruction != "RUN":
            continue
        for command in re.split(r"&&|;|\|\|", args):
            words = shlex.split(command)
            if len(words) >= 2 and words[0] in ("apt-get", "apt") and words[1] == "install":
                packages.update(w for w in words[2:] if not w.startswith("-"))
    return packages


def dockerfile_entrypoint() -> list[str]:
    entries = [args for instruction, args in dockerfile_instructions() if instruction == "ENTRYPOINT"]
    assert entries, "Dockerfile has no ENTRYPOINT"
    entrypoint = json.loads(entries[-1])  # exec form, so signals reach the worker directly
    assert isinstance(entrypoint, list)
    return entrypoint


def dockerfile_port() -> int:
    argv = dockerfile_entrypoint()
    return int(value_after(argv, "--port"))


def nginx_text(path: pathlib.Path) -> str:
    """The config with comments removed."""
    return "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())


def nginx_upstreams(text: str) -> dict[str, str]:
    return dict(re.findall(r"\bupstream\s+(\S+)\s*\{([^{}]*)\}", text))


NGINX_TIME_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def nginx_seconds(value: str) -> float:
    """An nginx time value (`60`, `60s`, `1m`, `1m30s`, `500ms`) in seconds."""
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w)?", value)
    assert parts and "".join(n + (u or "") for n, u in parts) == value, f"bad nginx time {value!r}"
    return sum(int(n) * NGINX_TIME_UNITS[u or "s"] for n, u in parts)


def install_deps_apt_packages() -> list[str]:
    text = INSTALL_DEPS.read_text()
    match = re.search(r"^APT_PACKAGES=\((.*?)\)", text, re.S | re.M)
    assert match, "APT_PACKAGES=( ... ) not found in scripts/install-deps.sh"
    body = "\n".join(line.split("#", 1)[0] for line in match.group(1).splitlines())
    return body.split()


def systemd_sections(path: pathlib.Path) -> dict[str, list[tuple[str, str]]]:
    """[Section] -> [(key, value), ...] in order, keeping repeated keys."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, [])
            continue
        assert current is not None, f"{path.name}: setting outside a section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not a key=value line: {line!r}"
        sections[current].append((key.strip(), value.strip()))
    return sections


def systemd_values(sections: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in sections.get(section, []) if k == key]


def env_assignments(values: list[str]) -> dict[str, str]:
    """Environment= values (each may hold several, possibly quoted, NAME=value words)."""
    env = {}
    for value in values:
        for word in shlex.split(value):
            name, sep, val = word.partition("=")
            assert sep, f"bad Environment= word {word!r}"
            env[name] = val
    return env


# ---------------------------------------------------------------------------
# every YAML file parses
# ---------------------------------------------------------------------------

def test_k8s_directory_has_yaml_files():
    names = {p.name for p in k8s_yaml_files()}
    for expected in ("namespace.yaml", "redis.yaml", "worker.yaml", "service.yaml",
                     "ingress.yaml", "kustomization.yaml"):
        assert expected in names, f"deploy/kubernetes/{expected} missing"


@pytest.mark.parametrize(
    "path",
    [COMPOSE_FILE] + k8s_yaml_files(),
    ids=lambda p: str(p.relative_to(REPO_ROOT)),
)
def test_yaml_parses(path):
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert docs, f"{path} is empty"
    for doc in docs:
        assert isinstance(doc, dict), f"{path}: top level is not a mapping"


# ---------------------------------------------------------------------------
# docker-compose.yml
# ---------------------------------------------------------------------------

def test_compose_services_exist():
    services = load_compose()["services"]
    for name in ("redis", "rabbitmq", "kafka", "worker", "nginx"):
        assert name in services, f"compose service {name!r} missing"


def test_compose_worker_builds_from_deploy_dockerfile():
    build = load_compose()["services"]["worker"]["build"]
    assert isinstance(build, dict), "worker.build should name the context and dockerfile"
    context = (REPO_ROOT / build.get("context", ".")).resolve()
    assert context == REPO_ROOT, "worker build context should be the repository root"
    dockerfile = (context / build["dockerfile"]).resolve()
    assert dockerfile == DOCKERFILE.resolve()
    assert dockerfile.is_file()


def test_compose_worker_command_queue_and_channel():
    services = load_compose()["services"]
    argv = compose_command(services["worker"])
    # The URL (it may hold a password) goes in the environment, not in the process's argv.
    assert "--message-queue" not in argv
    queue = services["worker"]["environment"][QUEUE_VARIABLE]
    default_queue = compose_default(queue, "MESSAGE_QUEUE")
    assert default_queue == "redis://redis:6379"
    # the default queue's host is a compose service
    assert urllib.parse.urlsplit(default_queue).hostname in services
    channel = value_after(argv, "--channel")
    assert compose_default(channel, "CHANNEL") if channel.startswith("${") else channel


def test_compose_kafka_accepts_the_largest_channel_message():
    """BackplaneLimits.maxMessageBytes(maxPayload: 1_000_000): base64 attachments plus the
    envelope. A broker limit below it refuses the largest broadcasts a worker accepts."""
    source = (REPO_ROOT / "Sources" / "Backplane" / "BackplaneLimits.swift").read_text()
    shift = re.search(r"envelopeBytes = (\d+) << (\d+)", source)
    envelope = int(shift.group(1)) << int(shift.group(2))
    largest = 1_000_000 // 3 * 4 + 4 + envelope
    kafka = load_compose()["services"]["kafka"]["environment"]
    assert int(kafka["KAFKA_MESSAGE_MAX_BYTES"]) >= largest


def test_the_queue_variable_is_the_one_the_executables_read():
    source = (REPO_ROOT / "Sources" / "Backplane" / "BackplaneURL.swift").read_text()
    assert f'environmentVariable = "{QUEUE_VARIABLE}"' in source


def test_compose_worker_trusts_nginx_and_checks_readiness():
    services = load_compose()["services"]
    assert "--trust-proxy" in compose_command(services["worker"])
    test = services["worker"]["healthcheck"]["test"]
    assert any(f"127.0.0.1:{WORKER_PORT}{READINESS_PATH}" in str(word) for word in test), test
    assert test[1] == "curl", "the runtime image installs curl for the healthcheck"
    runtime_packages = apt_installed(dockerfile_stages()[-1])
    assert "curl" in runtime_packages
    depends = services["nginx"]["depends_on"]
    assert depends["worker"]["condition"] == "service_healthy"


def test_compose_worker_exposes_dockerfile_port():
    worker = load_compose()["services"]["worker"]
    exposed = {int(str(p).split("/")[0]) for p in worker.get("expose", [])}
    assert dockerfile_port() in exposed


def published_ports(service: dict) -> list[tuple[int, int]]:
    """(published, target) pairs from short ("8080:8080") or long port syntax."""
    pairs = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            pairs.append((int(entry["published"]), int(entry["target"])))
            continue
        spec = str(entry).split("/")[0]
        parts = spec.split(":")
        assert len(parts) >= 2, f"port {entry!r} is not published to the host"
        pairs.append((int(parts[-2]), int(parts[-1])))
    return pairs


def test_compose_nginx_publishes_8080():
    nginx = load_compose()["services"]["nginx"]
    assert (COMPOSE_NGINX_PORT, COMPOSE_NGINX_PORT) in published_ports(nginx)


def test_compose_nginx_mounts_compose_conf():
    nginx = load_compose()["services"]["nginx"]
    sources = []
    for volume in nginx.get("volumes", []):
        sources.append(volume["source"] if isinstance(volume, dict) else str(volume).split(":")[0])
    assert "./nginx/compose.conf" in sources
    assert (REPO_ROOT / "nginx" / "compose.conf").is_file()


# ---------------------------------------------------------------------------
# nginx configs
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(NGINX_CONFIGS))
def test_nginx_sticky_websocket_proxy(name):
    path = NGINX_CONFIGS[name]
    assert path.is_file(), f"{path} missing"
    text = nginx_text(path)

    upstreams = nginx_upstreams(text)
    sticky = {n for n, body in upstreams.items() if re.search(r"^\s*ip_hash\s*;", body, re.M)}
    assert sticky, f"{path.name}: no upstream with ip_hash"
    proxied = set(re.findall(r"\bproxy_pass\s+https?://([^/;\s]+)", text))
    # proxy_pass may go through the sio_node cookie map; its default must be sticky.
    for variable in [p for p in proxied if p.startswith("$")]:
        mapping = re.search(r"map\s+\$cookie_sio_node\s+" + re.escape(variable) + r"\s*\{([^}]*)\}", text)
        assert mapping, f"{path.name}: {variable} is not the sio_node cookie map"
        default = re.search(r"\bdefault\s+([^;\s]+)\s*;", mapping.group(1))
        assert default, f"{path.name}: the sio_node map has no default"
        proxied = (proxied - {variable}) | {default.group(1)}
    assert proxied and proxied <= sticky, f"{path.name}: proxy_pass targets {proxied}, sticky upstreams {sticky}"

    assert re.search(r"\bproxy_http_version\s+1\.1\s*;", text)
    assert re.search(r"\bproxy_set_header\s+Upgrade\s+\$http_upgrade\s*;", text)
    assert re.search(r"\bproxy_set_header\s+Connection\s+\S+\s*;", text)
    assert re.search(r"\bproxy_buffering\s+off\s*;", text)
    assert re.search(r"\bproxy_set_header\s+X-Forwarded-For\s+\S+\s*;", text)


@pytest.mark.parametrize("name", sorted(NGINX_CONFIGS))
def test_nginx_config_is_generated_from_the_template(name):
    """Local and compose configs come from one template: a hand edit of either is caught."""
    import subprocess

    generated = subprocess.run(
        ["bash", str(NGINX_CONFIG_SCRIPT), *NGINX_GENERATOR_ARGS[name]],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout
    assert generated == NGINX_CONFIGS[name].read_text(), (
        f"nginx/{NGINX_CONFIGS[name].name} differs from scripts/nginx-config.sh {' '.join(NGINX_GENERATOR_ARGS[name])}"
    )


@pytest.mark.parametrize("path", [NGINX_TEMPLATE] + sorted(NGINX_CONFIGS.values()), ids=lambda p: p.name)
def test_nginx_front_forwarding(path):
    """Issue 13 item 10: the headers the worker's same-origin check and client address read."""
    text = nginx_text(path)
    # Host with the port the browser used, or `Origin: http://host:8080` never matches.
    assert re.search(r"\bproxy_set_header\s+Host\s+\$http_host\s*;", text), "Host must be $http_host"
    assert not re.search(r"\bproxy_set_header\s+Host\s+\$host\s*;", text)
    # The client cannot choose the address handlers see: nginx replaces X-Forwarded-For.
    assert re.search(r"\bproxy_set_header\s+X-Forwarded-For\s+\$remote_addr\s*;", text)
    assert "$proxy_add_x_forwarded_for" not in text
    assert re.search(r"\bproxy_set_header\s+X-Forwarded-Proto\s+\$scheme\s*;", text)
    assert re.search(r"\bproxy_set_header\s+X-Forwarded-Host\s+\$http_host\s*;", text)
    # One client error must not eject a worker: retry only unreachable workers, and count
    # more than one failure.
    next_upstream = re.findall(r"\bproxy_next_upstream\s+([^;]*);", text)
    assert next_upstream, "proxy_next_upstream should be explicit"
    for value in next_upstream:
        assert not re.search(r"http_4\d\d|http_5\d\d|invalid_header|non_idempotent", value), value
    for fails in re.findall(r"\bmax_fails=(\d+)", text):
        assert int(fails) >= 2, f"max_fails={fails} ejects a worker after one failure"


@pytest.mark.parametrize("name", sorted(NGINX_CONFIGS))
def test_nginx_read_timeout_above_ping(name):
    text = nginx_text(NGINX_CONFIGS[name])
    timeouts = re.findall(r"\bproxy_read_timeout\s+(\S+?)\s*;", text)
    assert timeouts, f"{name}: no proxy_read_timeout (nginx's 60 s default is not explicit)"
    for value in timeouts:
        assert nginx_seconds(value) > PING_INTERVAL_PLUS_TIMEOUT, f"{name}: proxy_read_timeout {value}"


def test_nginx_seconds_parser():
    assert nginx_seconds("60") == 60
    assert nginx_seconds("60s") == 60
    assert nginx_seconds("1m") == 60
    assert nginx_seconds("1m30s") == 90
    assert nginx_seconds("500ms") == 0.5


def test_nginx_compose_upstream_and_listen():
    text = nginx_text(NGINX_CONFIGS["compose"])
    servers = []
    for body in nginx_upstreams(text).values():
        servers += re.findall(r"^\s*server\s+(\S+?)(?:\s[^;]*)?;", body, re.M)
    assert servers == [f"worker:{dockerfile_port()}"]
    listens = re.findall(r"\blisten\s+(\S+?)(?:\s[^;]*)?;", text)
    assert listens and all(l.rsplit(":", 1)[-1] == str(COMPOSE_NGINX_PORT) for l in listens), listens


# ---------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------

def test_dockerfile_exposes_worker_port():
    exposed = set()
    for instruction, args in dockerfile_instructions():
        if instruction == "EXPOSE":
            exposed.update(int(p.split("/")[0]) for p in args.split())
    assert exposed == {WORKER_PORT}


def test_dockerfile_entrypoint_runs_socketio_demo_on_5000():
    argv = dockerfile_entrypoint()
    assert pathlib.PurePosixPath(argv[0]).name == "socketio-demo"
    assert value_after(argv, "--port") == str(WORKER_PORT)
    assert value_after(argv, "--host") == "0.0.0.0"


def test_dockerfile_build_stage_installs_dev_packages():
    stages = dockerfile_stages()
    assert len(stages) >= 2, "expected a multi-stage build"
    build_packages = apt_installed(stages[0])
    for package in DEV_PACKAGES:
        assert package in build_packages, f"build stage does not install {package}"


def test_dockerfile_runtime_stage_installs_broker_libraries():
    runtime_packages = apt_installed(dockerfile_stages()[-1])
    for prefix in BROKER_LIBS:
        runtime = [p for p in runtime_packages if p.startswith(prefix) and not p.endswith("-dev")]
        assert runtime, f"runtime stage installs no {prefix} runtime package ({sorted(runtime_packages)})"
    assert not [p for p in runtime_packages if p.endswith("-dev")], "runtime stage installs -dev packages"


def test_dockerfile_dev_packages_in_install_deps():
    apt_packages = set(install_deps_apt_packages())
    dev = {p for p in apt_installed(dockerfile_stages()[0]) if p.endswith("-dev")}
    assert dev, "Dockerfile installs no -dev packages"
    missing = dev - apt_packages
    assert not missing, f"in the Dockerfile but not in install-deps.sh APT_PACKAGES: {sorted(missing)}"


# ---------------------------------------------------------------------------
# Kubernetes
# ---------------------------------------------------------------------------

def test_k8s_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    resources = kustomization["resources"]
    manifests = {p.name for p in k8s_yaml_files() if not p.name.startswith("kustomization.")}
    assert sorted(resources) == sorted(manifests)
    assert kustomization.get("namespace") == "socketio"


def test_k8s_everything_in_socketio_namespace():
    objects = load_k8s_objects()
    assert ("Namespace", "socketio") in objects
    for (kind, name), doc in objects.items():
        if kind != "Namespace":
            assert doc["metadata"].get("namespace") == "socketio", f"{kind}/{name}"


def test_k8s_worker_deployment():
    deployment = k8s("Deployment", "socketio-worker")
    spec = deployment["spec"]
    assert spec["replicas"] == 3
    pod = spec["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 30
    container = only_container(deployment)
    assert container["image"] == "swift-socketio:latest"
    assert {"name": "http", "containerPort": WORKER_PORT} in [
        {"name": p.get("name"), "containerPort": p["containerPort"]} for p in container["ports"]
    ]
    # HTTP probes on the worker's own endpoints (a TCP check says nothing about the backplane).
    for probe, path in (("readinessProbe", READINESS_PATH), ("livenessProbe", LIVENESS_PATH)):
        get = container[probe].get("httpGet")
        assert get, f"{probe} is not an httpGet probe"
        assert get["path"] == path, probe
        assert resolve_container_port(container, get["port"]) == WORKER_PORT, probe
    assert container["resources"].get("requests") and container["resources"].get("limits")
    # the selector picks the pod template
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()


def test_k8s_worker_port_matches_dockerfile():
    container = only_container(k8s("Deployment", "socketio-worker"))
    ports = {p["containerPort"] for p in container["ports"]}
    assert ports == {dockerfile_port()} == {WORKER_PORT}


def test_k8s_worker_args_use_defined_env():
    container = only_container(k8s("Deployment", "socketio-worker"))
    args = [str(a) for a in container["args"]]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    assert "--message-queue" not in args, "the queue URL would show in the process list"
    assert value_after(args, "--channel") == "$(CHANNEL)"
    assert "--trust-proxy" in args
    referenced = set(re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", " ".join(args)))
    assert referenced == {"CHANNEL"}
    for name in referenced:
        assert env.get(name), f"args reference $({name}) but the container env does not define it"
    # the image's ENTRYPOINT sets host and port; args must not override them
    assert "--port" not in args and "--host" not in args
    assert "command" not in container, "command would replace the image's ENTRYPOINT"


def test_k8s_message_queue_points_at_redis_service():
    container = only_container(k8s("Deployment", "socketio-worker"))
    env = {e["name"]: e for e in container["env"]}
    # From the Secret, not a literal value in the Deployment.
    reference = env[QUEUE_VARIABLE]["valueFrom"]["secretKeyRef"]
    secret = k8s("Secret", reference["name"])
    url = urllib.parse.urlsplit(secret["stringData"][reference["key"]])
    assert url.scheme == "redis"
    service = k8s("Service", url.hostname)
    port = service_port(service)
    assert port["port"] == url.port == 6379
    redis_deployment = k8s("Deployment", "redis")
    redis_container = only_container(redis_deployment)
    assert resolve_container_port(redis_container, port.get("targetPort", port["port"])) == 6379
    labels = redis_deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_k8s_redis_requires_the_password_the_workers_use():
    """Reliability review F12: the backplane is not open to anyone who reaches it."""
    container = only_container(k8s("Deployment", "socketio-worker"))
    reference = {e["name"]: e for e in container["env"]}[QUEUE_VARIABLE]["valueFrom"]["secretKeyRef"]
    secret = k8s("Secret", reference["name"])["stringData"]
    password = urllib.parse.urlsplit(secret[reference["key"]]).password
    assert password
    config = re.search(r'^requirepass\s+"?([^"\n]+)"?\s*$', secret["redis.conf"], re.M)
    assert config and config.group(1) == password, "Redis's requirepass and the workers' URL disagree"
    redis = k8s("Deployment", "redis")
    redis_container = only_container(redis)
    mounts = {m["name"]: m for m in redis_container["volumeMounts"]}
    volumes = {v["name"]: v for v in redis["spec"]["template"]["spec"]["volumes"]}
    (name, mount), = mounts.items()
    source = volumes[name]["secret"]
    assert source["secretName"] == reference["name"]
    paths = {item["key"]: item["path"] for item in source["items"]}
    config_path = f'{mount["mountPath"]}/{paths["redis.conf"]}'
    assert redis_container["args"][:2] == ["redis-server", config_path], "redis-server does not read the config"


def test_k8s_network_policies_limit_redis_to_workers_and_workers_to_the_ingress():
    objects = load_k8s_objects()
    policies = [doc for (kind, _), doc in objects.items() if kind == "NetworkPolicy"]
    by_target = {tuple(sorted(p["spec"]["podSelector"]["matchLabels"].items())): p for p in policies}
    worker_labels = k8s("Deployment", "socketio-worker")["spec"]["template"]["metadata"]["labels"]
    redis_labels = k8s("Deployment", "redis")["spec"]["template"]["metadata"]["labels"]

    def policy_for(labels):
        matches = [p for key, p in by_target.items() if dict(key).items() <= labels.items()]
        assert len(matches) == 1, f"no single NetworkPolicy selects {labels}"
        (rule,) = matches[0]["spec"]["ingress"]
        assert matches[0]["spec"]["policyTypes"] == ["Ingress"]
        return rule

    redis_rule = policy_for(redis_labels)
    (peer,) = redis_rule["from"]
    assert peer["podSelector"]["matchLabels"].items() <= worker_labels.items()
    assert [port["port"] for port in redis_rule["ports"]] == [6379]
    worker_rule = policy_for(worker_labels)
    (peer,) = worker_rule["from"]
    assert "podSelector" not in peer and peer["namespaceSelector"]["matchLabels"]
    assert [port["port"] for port in worker_rule["ports"]] == [WORKER_PORT]


def test_k8s_worker_service():
    service = k8s("Service", "socketio-worker")
    port = service_port(service)
    container = only_container(k8s("Deployment", "socketio-worker"))
    assert port["port"] == WORKER_PORT
    assert resolve_container_port(container, port.get("targetPort", port["port"])) == WORKER_PORT
    labels = k8s("Deployment", "socketio-worker")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    assert service["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"] == 10800


def test_k8s_ingress_routes_to_worker_service():
    ingresses = [doc for (kind, _), doc in load_k8s_objects().items() if kind == "Ingress"]
    assert len(ingresses) == 1
    ingress = ingresses[0]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/upstream-hash-by"] == "$remote_addr"
    for key in ("proxy-read-timeout", "proxy-send-timeout"):
        value = annotations[f"nginx.ingress.kubernetes.io/{key}"]
        assert isinstance(value, str), f"{key} annotation must be a quoted string"
        assert int(value) > PING_INTERVAL_PLUS_TIMEOUT
    service = k8s("Service", "socketio-worker")
    rules = ingress["spec"]["rules"]
    assert [r["host"] for r in rules] == ["socketio.example.com"]
    backends = [p["backend"]["service"] for r in rules for p in r["http"]["paths"]]
    assert backends
    for backend in backends:
        assert backend["name"] == service["metadata"]["name"]
        assert backend["port"]["number"] == service_port(service)["port"]


# ---------------------------------------------------------------------------
# systemd
# ---------------------------------------------------------------------------

def test_systemd_unit_exec_start():
    sections = systemd_sections(SYSTEMD_UNIT)
    exec_starts = systemd_values(sections, "Service", "ExecStart")
    assert len(exec_starts) == 1
    argv = shlex.split(exec_starts[0])
    assert pathlib.PurePosixPath(argv[0]).name == "socketio-demo"
    assert value_after(argv, "--port") == "%i"
    assert value_after(argv, "--host") == "127.0.0.1"
    assert "--message-queue" not in argv, "the queue URL would show in the process list"
    channel = value_after(argv, "--channel")
    assert channel == "${CHANNEL}"
    defaults = env_assignments(systemd_values(sections, "Service", "Environment"))
    assert urllib.parse.urlsplit(defaults[QUEUE_VARIABLE]).scheme == "redis"
    assert defaults["CHANNEL"]
    assert systemd_values(sections, "Service", "EnvironmentFile") == ["-/etc/socketio/worker.env"]


def test_systemd_unit_restart_and_stop():
    sections = systemd_sections(SYSTEMD_UNIT)
    assert systemd_values(sections, "Service", "Restart") == ["on-failure"]
    assert systemd_values(sections, "Service", "KillSignal") == ["SIGTERM"]
    assert systemd_values(sections, "Service", "TimeoutStopSec") == ["30"]
    assert systemd_values(sections, "Install", "WantedBy")


def test_systemd_unit_sandboxing():
    sections = systemd_sections(SYSTEMD_UNIT)
    expected = {
        "DynamicUser": "yes",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "LimitNOFILE": "1048576",
    }
    for key, value in expected.items():
        assert systemd_values(sections, "Service", key) == [value], key


def test_systemd_env_example_sets_queue_and_channel():
    env = {}
    for raw in SYSTEMD_ENV.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"bad line {line!r}"
            env[name] = value
    assert set(env) == {QUEUE_VARIABLE, "CHANNEL"}
    assert urllib.parse.urlsplit(env[QUEUE_VARIABLE]).scheme in ("redis", "amqp", "kafka")
