"""kubesim.runtime.shell and .volumes: what `kubectl exec` shows inside a container."""

import base64
import gzip
import io
import tarfile
from datetime import UTC, datetime

import pytest

from kubesim.runtime.shell import ExecError, Shell, encode_output, env_for, mounted_files
from kubesim.runtime.volumes import ConfigError, missing_sources

NOW = datetime(2025, 3, 1, 12, 0, 5, tzinfo=UTC)


def b64(text):
    return base64.b64encode(text.encode()).decode()


def make_pod():
    return {
        "metadata": {
            "name": "web-7d9f-abcde",
            "namespace": "shop",
            "uid": "u-1",
            "labels": {"app": "web"},
        },
        "spec": {
            "nodeName": "worker-1",
            "containers": [
                {
                    "name": "nginx",
                    "image": "docker.io/library/nginx:1.27",
                    "env": [
                        {"name": "MODE", "value": "prod"},
                        {"name": "BANNER", "value": "$(MODE)-$(POD_NAME)-$$(x)"},
                        {
                            "name": "POD_NAME",
                            "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                        },
                        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                        {
                            "name": "POD_IP",
                            "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}},
                        },
                        {
                            "name": "DB_PASSWORD",
                            "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
                        },
                        {
                            "name": "LEVEL",
                            "valueFrom": {
                                "configMapKeyRef": {"name": "app-config", "key": "log.level"}
                            },
                        },
                        {
                            "name": "OPTIONAL",
                            "valueFrom": {
                                "configMapKeyRef": {"name": "nope", "key": "x", "optional": True}
                            },
                        },
                        {
                            "name": "CPU_LIMIT",
                            "valueFrom": {
                                "resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}
                            },
                        },
                    ],
                    "envFrom": [{"configMapRef": {"name": "app-config"}, "prefix": "CFG_"}],
                    "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                    "volumeMounts": [
                        {"name": "config", "mountPath": "/etc/config"},
                        {"name": "creds", "mountPath": "/etc/creds", "readOnly": True},
                        {
                            "name": "config",
                            "mountPath": "/etc/nginx/conf.d/site.conf",
                            "subPath": "site.conf",
                        },
                        {"name": "cache", "mountPath": "/var/cache/nginx"},
                        {
                            "name": "kube-api-access",
                            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                        },
                    ],
                }
            ],
            "volumes": [
                {"name": "config", "configMap": {"name": "app-config"}},
                {
                    "name": "creds",
                    "secret": {
                        "secretName": "db",
                        "defaultMode": 0o400,
                        "items": [{"key": "password", "path": "db/password"}],
                    },
                },
                {"name": "cache", "emptyDir": {}},
                {
                    "name": "kube-api-access",
                    "projected": {
                        "sources": [
                            {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
                            {
                                "configMap": {
                                    "name": "kube-root-ca.crt",
                                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                }
                            },
                            {
                                "downwardAPI": {
                                    "items": [
                                        {
                                            "path": "namespace",
                                            "fieldRef": {"fieldPath": "metadata.namespace"},
                                        }
                                    ]
                                }
                            },
                        ]
                    },
                },
            ],
        },
        "status": {"phase": "Running", "podIP": "10.244.1.7"},
    }


@pytest.fixture
def world():
    configmaps = {
        "app-config": {"data": {"log.level": "info", "site.conf": "server { listen 80; }\n"}},
        "kube-root-ca.crt": {"data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n"}},
    }
    secrets = {"db": {"data": {"password": b64("s3cret")}}}
    pod = make_pod()
    return pod, configmaps, secrets


def make_shell(pod, configmaps, secrets, at_start=None):
    env = env_for(pod, "nginx", configmaps, secrets)

    def files():
        return mounted_files(pod, "nginx", configmaps, secrets, at_start=at_start)

    return Shell(pod, "nginx", files, env, pod["metadata"]["name"], lambda: NOW)


def test_env_resolution(world):
    pod, configmaps, secrets = world
    env = env_for(pod, "nginx", configmaps, secrets)
    assert env["BANNER"] == "prod-$(POD_NAME)-$(x)"  # POD_NAME is defined later
    assert env["POD_NAME"] == "web-7d9f-abcde"
    assert env["NODE"] == "worker-1"
    assert env["POD_IP"] == "10.244.1.7"
    assert env["DB_PASSWORD"] == "s3cret"
    assert env["LEVEL"] == "info"
    assert env["CFG_log.level"] == "info"
    assert env["CPU_LIMIT"] == "500"
    assert "OPTIONAL" not in env


def test_missing_references_fail_like_the_kubelet(world):
    pod, configmaps, secrets = world
    with pytest.raises(ConfigError, match=r'^secret "db" not found$'):
        env_for(pod, "nginx", configmaps, {})
    del configmaps["app-config"]["data"]["log.level"]
    with pytest.raises(
        ConfigError, match=r"^couldn't find key log.level in ConfigMap shop/app-config$"
    ):
        env_for(pod, "nginx", configmaps, secrets)
    assert missing_sources(pod, {}, secrets) == [
        'MountVolume.SetUp failed for volume "config" : configmap "app-config" not found',
        'MountVolume.SetUp failed for volume "kube-api-access" : '
        'configmap "kube-root-ca.crt" not found',
    ]


def test_cat_configmap_key_follows_configmap_changes(world):
    pod, configmaps, secrets = world
    at_start = mounted_files(pod, "nginx", configmaps, secrets)
    sh = make_shell(pod, configmaps, secrets, at_start=at_start)
    assert sh.run("cat /etc/config/log.level") == ("info", "", 0)
    configmaps["app-config"]["data"]["log.level"] = "debug"
    configmaps["app-config"]["data"]["site.conf"] = "server { listen 8080; }\n"
    assert sh.run("cat /etc/config/log.level") == ("debug", "", 0)
    assert sh.run_argv(["cat", "/etc/config/site.conf"])[0] == "server { listen 8080; }\n"
    # A subPath mount is a bind mount made at container start: it never updates.
    assert sh.run("cat /etc/nginx/conf.d/site.conf")[0] == "server { listen 80; }\n"


def test_secret_items_mode_and_service_account_files(world):
    sh = make_shell(*world)
    assert sh.run("cat /etc/creds/db/password") == ("s3cret", "", 0)
    assert sh.run("cat /var/run/secrets/kubernetes.io/serviceaccount/namespace")[0] == "shop"
    out, _, _ = sh.run("ls /var/run/secrets/kubernetes.io/serviceaccount")
    assert out == "ca.crt\nnamespace\ntoken\n"
    files = mounted_files(*world[:1], "nginx", world[1], world[2])
    assert files["/etc/creds/..data/db/password"].mode == 0o400


def test_ls_shows_keys_and_atomic_writer_links(world):
    sh = make_shell(*world)
    assert sh.run("ls /etc/config") == ("log.level\nsite.conf\n", "", 0)
    out, _, _ = sh.run("ls -la /etc/config")
    assert out.splitlines()[:1] == ["total 12"]
    assert "lrwxrwxrwx 1 root root   16 Mar  1 12:00 log.level -> ..data/log.level" in out
    assert sh.run("ls /nope") == ("", "ls: cannot access '/nope': No such file or directory\n", 2)
    assert sh.run("ls /var/cache/nginx") == ("", "", 0)
    assert sh.run("echo /etc/config/*")[0] == "/etc/config/log.level /etc/config/site.conf\n"


def test_builtins(world):
    sh = make_shell(*world)
    assert (
        sh.run("echo $MODE ${POD_NAME} '$MODE' \"x $NODE\"")[0]
        == "prod web-7d9f-abcde $MODE x worker-1\n"
    )
    assert sh.run("hostname") == ("web-7d9f-abcde\n", "", 0)
    assert sh.run("printenv MODE")[0] == "prod\n"
    assert sh.run("printenv MISSING") == ("", "", 1)
    env_out = sh.run("env")[0].splitlines()
    assert env_out[0].startswith("PATH=") and "HOSTNAME=web-7d9f-abcde" in env_out
    assert sh.run("date") == ("Sat Mar  1 12:00:05 UTC 2025\n", "", 0)
    assert sh.run("cd /etc/config && pwd && cat log.level")[0] == "/etc/config\ninfo"
    assert sh.run("whoami") == ("root\n", "", 0)
    assert sh.run("uname -a")[0].startswith("Linux web-7d9f-abcde 6.1.0")
    ps = sh.run("ps")[0].splitlines()
    assert ps[1] == "    1 root      0:00 nginx: master process nginx -g daemon off;"
    assert sh.run("cat /etc/hosts")[0].endswith("10.244.1.7\tweb-7d9f-abcde\n")


def test_errors_exit_codes_and_control_flow(world):
    sh = make_shell(*world)
    assert sh.run("foo") == ("", "sh: foo: not found\n", 127)
    assert sh.run("foo; echo $?")[0] == "127\n"
    assert sh.run("false || echo fallback && echo ok")[0] == "fallback\nok\n"
    assert sh.run("cat /etc/missing") == ("", "cat: /etc/missing: No such file or directory\n", 1)
    assert sh.run("exit 3; echo never") == ("", "", 3)
    assert sh.exited
    sh = make_shell(*world)
    assert sh.run_argv(["sh", "-c", "echo $MODE && exit 4"]) == ("prod\n", "", 4)
    assert (
        sh.run("env | grep ^CFG_ | sort")[0]
        == "CFG_log.level=info\nCFG_site.conf=server { listen 80; }\n"
    )
    assert (
        sh.run("touch /etc/config/new")[1]
        == "touch: cannot touch '/etc/config/new': Read-only file system\n"
    )
    with pytest.raises(ExecError, match='exec: "curl": executable file not found in \\$PATH'):
        sh.run_argv(["curl", "localhost"])


def test_ps_shows_the_pods_command():
    pod = {
        "metadata": {"name": "pi", "namespace": "default"},
        "spec": {
            "containers": [
                {
                    "name": "pi",
                    "image": "perl:5.34",
                    "command": ["perl", "-Mbignum=bpi"],
                    "args": ["-wle", "print bpi(2000)"],
                }
            ]
        },
    }
    sh = Shell(pod, "pi", {}, {}, "pi", lambda: NOW)
    assert "    1 root      0:00 perl -Mbignum=bpi -wle print bpi(2000)" in sh.run("ps aux")[0]


def test_loops_substitution_and_redirections(world):
    sh = make_shell(*world)
    assert sh.run("for i in $(seq 1 3); do echo n$i; done") == ("n1\nn2\nn3\n", "", 0)
    assert sh.run("for f in `ls /etc/config`; do echo $f; done; echo end")[0].endswith("end\n")
    assert sh.run("echo oops >&2; echo fine") == ("fine\n", "oops\n", 0)
    assert sh.run("cat /nope 2>&1") == ("cat: /nope: No such file or directory\n", "", 1)
    assert sh.run("cat /nope 2>/dev/null") == ("", "", 1)
    assert sh.run("echo a > /tmp/f; echo b >> /tmp/f; cat < /tmp/f") == ("a\nb\n", "", 0)
    # a ConfigMap volume is read-only, as the kubelet mounts it
    assert sh.run("echo x > /etc/config/log.level") == (
        "",
        "sh: can't create /etc/config/log.level: Read-only file system\n",
        1,
    )
    assert sh.run("while true; do date; done") == (
        "",
        "sh: while: compound commands are not supported by kubesim's shell\n",
        2,
    )
    assert sh.run("xxd /etc/hostname") == ("", "sh: xxd: not found\n", 127)


def test_binary_commands_keep_every_byte(world):
    sh = make_shell(*world)
    payload = bytes(range(256))
    sh.write("/tmp/blob", payload)
    zipped, _, code = sh.run("gzip -c /tmp/blob")
    assert code == 0 and gzip.decompress(encode_output(zipped)) == payload
    assert encode_output(sh.run("cat /tmp/blob | gzip | gunzip")[0]) == payload
    assert encode_output(sh.run("base64 /tmp/blob | base64 -d")[0]) == payload
    assert sh.run("echo hello | base64") == ("aGVsbG8K\n", "", 0)
    assert sh.run("printf 'a%sb' X | wc -c") == ("3\n", "", 0)
    archive, _, code = sh.run("tar czf - -C /etc config")
    assert code == 0
    with tarfile.open(fileobj=io.BytesIO(encode_output(archive))) as tar:
        assert "config/log.level" in tar.getnames()
    extract = "tar czf /tmp/c.tgz -C /etc config && tar xzOf /tmp/c.tgz config/log.level"
    assert sh.run(extract)[0] == "info"
    unpack = "mkdir /tmp/out && tar xzf /tmp/c.tgz -C /tmp/out && cat /tmp/out/config/log.level"
    assert sh.run(unpack)[0] == "info"
    assert sh.run("echo hi | md5sum")[0] == "764efa883dda1e11db47671c4a3bbd9e  -\n"
    assert sh.run("seq 2 2 6; uptime | wc -l") == ("2\n4\n6\n1\n", "", 0)
