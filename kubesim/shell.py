"""A tiny POSIX-ish shell for `pods/exec`: enough to look around a container.

It answers the commands people type into `kubectl exec` (echo, env, cat, ls, ps ...)
against a small image-like filesystem plus the pod's mounted ConfigMaps and Secrets.
`files` may be a mapping or a zero-argument callable returning one; a callable is
read before every command, so a ConfigMap edit shows up on the next `cat` (the
kubelet's volume sync). Quoting, `$VAR`/`${VAR}`/`$?`, globs, `;`, `&&`, `||` and `|`
are understood; redirections, loops and functions are not.

Output mimics busybox/coreutils in a container without a TTY (one name per line).
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from kubesim.volumes import ConfigError, File, env_for, mounted_files  # noqa: F401 (re-export)

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
KERNEL = "6.1.0-28-cloud-amd64"
# Directories every image has (a listing for `ls`, nothing is written to them).
BASE_DIRS = ("/bin", "/dev", "/etc", "/home", "/proc", "/root", "/run", "/sbin", "/sys")
BASE_DIRS += ("/tmp", "/usr", "/usr/bin", "/usr/local", "/var", "/var/log")  # noqa: S108

# What PID 1 runs when the pod does not override the image's command (by image name).
IMAGE_COMMANDS = {
    "nginx": "nginx: master process nginx -g daemon off;",
    "httpd": "httpd -DFOREGROUND",
    "redis": "redis-server *:6379",
    "postgres": "postgres",
    "mysql": "mysqld",
    "mariadb": "mariadbd",
    "memcached": "memcached",
    "busybox": "sh",
    "alpine": "/bin/sh",
    "ubuntu": "/bin/bash",
    "debian": "bash",
    "python": "python3",
    "node": "node",
}
# Extra files some images ship, so `ls`/`cat` find what users expect.
IMAGE_FILES = {
    "nginx": {
        "/usr/share/nginx/html/index.html": b"<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to"
        b" nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n</body>\n</html>\n",
        "/etc/nginx/nginx.conf": b"user  nginx;\nworker_processes  auto;\n\nerror_log  "
        b"/var/log/nginx/error.log notice;\npid        /var/run/nginx.pid;\n\nevents {\n"
        b"    worker_connections  1024;\n}\n\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n",
    },
}
NOT_FOUND = 127


class ExecError(Exception):
    """The exec'd binary does not exist: the runtime refuses to start it (no exit code)."""


def image_name(image: str) -> str:
    """`docker.io/library/nginx:1.27@sha256:..` -> `nginx`."""
    return image.split("@")[0].rsplit("/", 1)[-1].split(":")[0]


class Shell:
    def __init__(
        self,
        pod: dict,
        container: str,
        files: Mapping[str, bytes] | Callable[[], Mapping[str, bytes]],
        env: dict[str, str],
        hostname: str,
        now: Callable[[], datetime],
        arch: str = "x86_64",
    ):
        self.pod = pod
        self.container = next(
            (
                c
                for c in (pod.get("spec") or {}).get("containers") or []
                if c.get("name") == container
            ),
            {},
        )
        self._files = files
        self.hostname = hostname
        self.now = now
        self.arch = arch
        self.env = {"PATH": PATH, "HOSTNAME": hostname, **env}
        self.env.setdefault("HOME", "/root")
        self.cwd = self.container.get("workingDir") or "/"
        self.status = 0
        self.exited = False

    # ------------------------------------------------------------ entry points

    def run(self, command_line: str) -> tuple[str, str, int]:
        """Run a shell command line; returns (stdout, stderr, exit code)."""
        out, err = [], []
        try:
            chain = _parse(command_line)
        except ValueError as exc:
            return "", f"sh: {exc}\n", 2
        for op, pipeline in chain:
            if self.exited:
                break
            if (op == "&&" and self.status != 0) or (op == "||" and self.status == 0):
                continue
            stdout, stderr, self.status = self._pipeline(pipeline)
            out.append(stdout)
            err.append(stderr)
        return "".join(out), "".join(err), self.status

    def run_argv(self, argv: list[str]) -> tuple[str, str, int]:
        """Run an exec request's argv directly (no shell parsing, like the runtime)."""
        if not argv:
            raise ExecError("command must not be empty")
        if image_name(argv[0]) not in COMMANDS:
            raise ExecError(
                "OCI runtime exec failed: exec failed: unable to start container process: "
                f'exec: "{argv[0]}": executable file not found in $PATH: unknown'
            )
        out, err, self.status = self._command(argv, "")
        return out, err, self.status

    # ------------------------------------------------------------ execution

    def _pipeline(self, pipeline: list[list]) -> tuple[str, str, int]:
        stdin, errors, code = "", [], 0
        for words in pipeline:
            argv = self._expand(words)
            if not argv:
                continue
            stdin, err, code = self._command(argv, stdin)
            errors.append(err)
        return stdin, "".join(errors), code

    def _command(self, argv: list[str], stdin: str) -> tuple[str, str, int]:
        name = argv[0].rsplit("/", 1)[-1] if argv[0].startswith("/") else argv[0]
        handler = COMMANDS.get(name)
        if handler is None:
            return "", f"sh: {argv[0]}: not found\n", NOT_FOUND
        return handler(self, argv[1:], stdin)

    def _expand(self, words: list[list[tuple[str, str]]]) -> list[str]:
        argv = []
        for pieces in words:
            text = "".join(self._piece(kind, value) for kind, value in pieces)
            unquoted_vars_only = all(kind == "var" for kind, _ in pieces)
            if unquoted_vars_only and not text:
                continue  # an unquoted empty expansion disappears
            has_glob = any(kind == "glob" for kind, _ in pieces)
            argv.extend(self._glob(text) if has_glob else [text])
        return argv

    def _piece(self, kind: str, value: str) -> str:
        if kind in ("var", "qvar"):
            return str(self.status) if value == "?" else self.env.get(value, "")
        return value

    def _glob(self, pattern: str) -> list[str]:
        directory, _, base = pattern.rpartition("/")
        parent = self.resolve(directory or ("/" if pattern.startswith("/") else "."))
        names = [n for n in self.listdir(parent) or [] if fnmatch.fnmatch(n, base)]
        if not base.startswith("."):
            names = [n for n in names if not n.startswith(".")]
        if not names:
            return [pattern]
        prefix = f"{directory}/" if directory or pattern.startswith("/") else ""
        return [prefix + n for n in sorted(names)]

    # ------------------------------------------------------------ filesystem

    def filesystem(self) -> dict[str, File]:
        files = self._files() if callable(self._files) else self._files
        fs: dict[str, File] = {d: File(directory=True, mode=0o755) for d in BASE_DIRS}
        fs["/etc/hostname"] = File(f"{self.hostname}\n".encode())
        fs["/etc/hosts"] = File(self._hosts().encode())
        fs["/etc/resolv.conf"] = File(self._resolv().encode())
        for path, content in IMAGE_FILES.get(
            image_name(self.container.get("image", "")), {}
        ).items():
            fs[path] = File(content)
        for path, content in files.items():
            fs[path] = content if isinstance(content, File) else File(bytes(content))
        return fs

    def _hosts(self) -> str:
        ip = (self.pod.get("status") or {}).get("podIP", "")
        lines = [
            "# Kubernetes-managed hosts file.",
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost ip6-localhost ip6-loopback",
            "fe00::0\tip6-localnet",
            "fe00::0\tip6-mcastprefix",
            "fe00::1\tip6-allnodes",
            "fe00::2\tip6-allrouters",
        ]
        if ip:
            lines.append(f"{ip}\t{self.hostname}")
        return "\n".join(lines) + "\n"

    def _resolv(self) -> str:
        ns = (self.pod.get("metadata") or {}).get("namespace", "default")
        return (
            f"search {ns}.svc.cluster.local svc.cluster.local cluster.local\n"
            "nameserver 10.96.0.10\noptions ndots:5\n"
        )

    def absolute(self, path: str) -> str:
        return posixpath.normpath(posixpath.join(self.cwd, path)).replace("//", "/")

    def resolve(self, path: str, fs: dict | None = None) -> str:
        """Absolute path with symlinks (the atomic writer's ..data links) followed."""
        fs = fs if fs is not None else self.filesystem()
        parts = [p for p in self.absolute(path).split("/") if p]
        current = "/"
        for hops, part in enumerate(parts):
            current = posixpath.join(current, part)
            entry = fs.get(current)
            if entry is not None and entry.link and hops < 40:
                current = posixpath.normpath(posixpath.join(posixpath.dirname(current), entry.link))
        return current

    def lookup(self, path: str, fs: dict | None = None) -> tuple[str, File | None]:
        """(resolved path, File) — a directory implied by deeper paths is a directory File."""
        fs = fs if fs is not None else self.filesystem()
        real = self.resolve(path, fs)
        if real == "/":
            return real, File(directory=True, mode=0o755)
        entry = fs.get(real)
        if entry is not None:
            return real, entry
        if any(p.startswith(real + "/") for p in fs):
            return real, File(directory=True, mode=0o755)
        return real, None

    def listdir(self, directory: str, fs: dict | None = None) -> list[str] | None:
        fs = fs if fs is not None else self.filesystem()
        _, entry = self.lookup(directory, fs)
        if entry is None or not entry.directory:
            return None
        real = self.resolve(directory, fs)
        prefix = real.rstrip("/") + "/"
        return sorted(
            {p[len(prefix) :].split("/")[0] for p in fs if p.startswith(prefix) and p != prefix}
        )

    # ------------------------------------------------------------ process table

    def main_process(self) -> str:
        c = self.container
        argv = (c.get("command") or []) + (c.get("args") or [])
        if c.get("command"):
            return " ".join(argv)
        base = IMAGE_COMMANDS.get(
            image_name(c.get("image", "")), image_name(c.get("image", "")) or "sh"
        )
        return " ".join([base, *argv])


# ---------------------------------------------------------------- parsing


def _parse(line: str) -> list[tuple[str, list[list]]]:
    """Command line -> [(operator before it, pipeline)], pipeline = [words], word = pieces."""
    chain: list[tuple[str, list[list]]] = []
    pipeline: list[list] = []
    words: list = []
    pieces: list[tuple[str, str]] = []
    started = False
    op = ";"
    i, n = 0, len(line)

    def end_word():
        nonlocal pieces, started
        if started:
            words.append(pieces)
        pieces, started = [], False

    def end_command():
        nonlocal words
        end_word()
        if words:
            pipeline.append(words)
        words = []

    def end_pipeline(next_op):
        nonlocal pipeline, op
        end_command()
        if pipeline:
            chain.append((op, pipeline))
        elif next_op in ("&&", "||", "|"):
            raise ValueError(f'syntax error: unexpected "{next_op}"')
        pipeline, op = [], next_op

    while i < n:
        ch = line[i]
        if ch in " \t\n":
            end_word()
        elif ch == "#" and not started:
            break
        elif line.startswith(("&&", "||"), i):
            end_pipeline(line[i : i + 2])
            i += 1
        elif ch == ";":
            end_pipeline(";")
        elif ch == "|":
            end_command()
            if not pipeline:
                raise ValueError('syntax error: unexpected "|"')
        elif ch == "'":
            close = line.find("'", i + 1)
            if close < 0:
                raise ValueError("syntax error: unterminated quoted string")
            pieces.append(("lit", line[i + 1 : close]))
            started, i = True, close
        elif ch == '"':
            i = _double_quoted(line, i + 1, pieces)
            started = True
        elif ch == "\\" and i + 1 < n:
            pieces.append(("lit", line[i + 1]))
            started, i = True, i + 1
        elif ch == "$":
            i = _variable(line, i, pieces, "var")
            started = True
        elif ch in "*?":
            pieces.append(("glob", ch))
            started = True
        else:
            pieces.append(("lit", ch))
            started = True
        i += 1
    end_pipeline(";")
    return chain


def _double_quoted(line: str, i: int, pieces: list) -> int:
    """Parse up to the closing quote; returns its index."""
    while i < len(line):
        ch = line[i]
        if ch == '"':
            pieces.append(("lit", ""))
            return i
        if ch == "\\" and i + 1 < len(line) and line[i + 1] in '"\\$`':
            pieces.append(("lit", line[i + 1]))
            i += 1
        elif ch == "$":
            i = _variable(line, i, pieces, "qvar")
        else:
            pieces.append(("lit", ch))
        i += 1
    raise ValueError("syntax error: unterminated quoted string")


def _variable(line: str, i: int, pieces: list, kind: str) -> int:
    """`$NAME`, `${NAME}` or `$?` at line[i]; returns the index of its last character."""
    match = re.match(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*|\?)\}|([A-Za-z_][A-Za-z0-9_]*|\?))", line[i:])
    if not match:
        pieces.append(("lit", "$"))
        return i
    pieces.append((kind, match[1] or match[2]))
    return i + len(match[0]) - 1


# ---------------------------------------------------------------- commands


def _flags(args: list[str]) -> tuple[set[str], list[str]]:
    flags, rest = set(), []
    for a in args:
        if a.startswith("-") and len(a) > 1 and not rest:
            flags.update(a[1:])
        else:
            rest.append(a)
    return flags, rest


def cmd_echo(sh: Shell, args, stdin):
    newline = True
    if args and args[0] == "-n":
        newline, args = False, args[1:]
    return " ".join(args) + ("\n" if newline else ""), "", 0


def cmd_env(sh: Shell, args, stdin):
    return "".join(f"{k}={v}\n" for k, v in sh.env.items()), "", 0


def cmd_printenv(sh: Shell, args, stdin):
    if not args:
        return cmd_env(sh, args, stdin)
    values = [sh.env[a] for a in args if a in sh.env]
    return "".join(f"{v}\n" for v in values), "", 0 if len(values) == len(args) else 1


def cmd_hostname(sh: Shell, args, stdin):
    return f"{sh.hostname}\n", "", 0


def cmd_date(sh: Shell, args, stdin):
    now = sh.now().astimezone(UTC)
    fmt = next((a[1:] for a in args if a.startswith("+")), None)
    if fmt is not None:
        return now.strftime(fmt) + "\n", "", 0
    return now.strftime("%a %b %e %H:%M:%S UTC %Y") + "\n", "", 0


def cmd_pwd(sh: Shell, args, stdin):
    return f"{sh.cwd}\n", "", 0


def cmd_cd(sh: Shell, args, stdin):
    target = args[0] if args else sh.env.get("HOME", "/")
    _, entry = sh.lookup(target)
    if entry is None or not entry.directory:
        return "", f"sh: cd: can't cd to {target}: No such file or directory\n", 2
    sh.cwd = sh.absolute(target)
    return "", "", 0


def cmd_cat(sh: Shell, args, stdin):
    if not args:
        return stdin, "", 0
    fs = sh.filesystem()
    out, err, code = [], [], 0
    for path in args:
        _, entry = sh.lookup(path, fs)
        if entry is None:
            err.append(f"cat: {path}: No such file or directory\n")
            code = 1
        elif entry.directory:
            err.append(f"cat: {path}: Is a directory\n")
            code = 1
        else:
            out.append(bytes(entry).decode(errors="replace"))
    return "".join(out), "".join(err), code


def _mode_string(entry: File) -> str:
    kind = "l" if entry.link else "d" if entry.directory else "-"
    bits = 0o777 if entry.link else entry.mode
    rwx = "".join(ch if bits & (1 << (8 - i)) else "-" for i, ch in enumerate("rwxrwxrwx"))
    return kind + rwx


def _long_line(sh: Shell, name: str, entry: File, width: int) -> str:
    size = len(entry.link) if entry.link else (4096 if entry.directory else len(entry))
    when = sh.now().astimezone(UTC).strftime("%b %e %H:%M")
    target = f" -> {entry.link}" if entry.link else ""
    return f"{_mode_string(entry)} 1 root root {size:>{width}} {when} {name}{target}\n"


def cmd_ls(sh: Shell, args, stdin):
    flags, paths = _flags(args)
    fs = sh.filesystem()
    paths = paths or ["."]
    out, err, code = [], [], 0
    for index, path in enumerate(paths):
        real, entry = sh.lookup(path, fs)
        raw = fs.get(sh.absolute(path))
        if entry is None:
            err.append(f"ls: cannot access '{path}': No such file or directory\n")
            code = 2
            continue
        if not entry.directory or (
            raw is not None and raw.link and "l" in flags and not path.endswith("/")
        ):
            shown = raw if raw is not None else entry
            out.append(
                _long_line(sh, path, shown, len(str(len(shown)))) if "l" in flags else f"{path}\n"
            )
            continue
        names = sh.listdir(path, fs) or []
        if "a" not in flags:
            names = [n for n in names if not n.startswith(".")]
        if len(paths) > 1:
            out.append(("\n" if index else "") + f"{path}:\n")
        if "l" not in flags:
            out.extend(f"{n}\n" for n in (([".", ".."] if "a" in flags else []) + names))
            continue
        entries = [
            (n, fs.get(f"{real.rstrip('/')}/{n}") or File(directory=True, mode=0o755))
            for n in names
        ]
        width = max((len(str(len(e.link) if e.link else len(e))) for _, e in entries), default=1)
        width = max(width, 4) if any(e.directory for _, e in entries) else width
        out.append(f"total {len(entries) * 4}\n")
        out.extend(_long_line(sh, n, e, width) for n, e in entries)
    return "".join(out), "".join(err), code


def cmd_ps(sh: Shell, args, stdin):
    lines = ["PID   USER     TIME  COMMAND", f"    1 root      0:00 {sh.main_process()}"]
    if image_name(sh.container.get("image", "")) == "nginx" and not sh.container.get("command"):
        lines += [f"   {29 + i} nginx     0:00 nginx: worker process" for i in range(2)]
    lines += ["   47 root      0:00 sh", "   53 root      0:00 ps " + " ".join(args)]
    return "\n".join(line.rstrip() for line in lines) + "\n", "", 0


def _uid(sh: Shell) -> int:
    ctx = sh.container.get("securityContext") or {}
    pod_ctx = (sh.pod.get("spec") or {}).get("securityContext") or {}
    return ctx.get("runAsUser", pod_ctx.get("runAsUser", 0)) or 0


def cmd_whoami(sh: Shell, args, stdin):
    uid = _uid(sh)
    if uid == 0:
        return "root\n", "", 0
    return "", f"whoami: cannot find name for user ID {uid}\n", 1


def cmd_id(sh: Shell, args, stdin):
    uid = _uid(sh)
    user = "(root)" if uid == 0 else ""
    return f"uid={uid}{user} gid=0(root) groups=0(root)\n", "", 0


def cmd_uname(sh: Shell, args, stdin):
    flags, _ = _flags(args)
    parts = {
        "s": "Linux",
        "n": sh.hostname,
        "r": KERNEL,
        "v": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)",
        "m": sh.arch,
        "o": "GNU/Linux",
    }
    order = "snrvmo" if "a" in flags else "".join(f for f in "snrvmo" if f in flags) or "s"
    return " ".join(parts[f] for f in order) + "\n", "", 0


def cmd_exit(sh: Shell, args, stdin):
    sh.exited = True
    try:
        code = int(args[0]) % 256 if args else sh.status
    except ValueError:
        return "", f"sh: exit: Illegal number: {args[0]}\n", 2
    return "", "", code


def cmd_sh(sh: Shell, args, stdin):
    if len(args) >= 2 and args[0] == "-c":
        child = Shell(
            sh.pod, sh.container.get("name", ""), sh._files, {}, sh.hostname, sh.now, sh.arch
        )
        child.env, child.cwd = dict(sh.env), sh.cwd
        return child.run(args[1])
    if args and args[0] == "-c":
        return "", "sh: -c requires an argument\n", 2
    if stdin:
        return sh.run(stdin)
    return "", "", 0


def cmd_true(sh: Shell, args, stdin):
    return "", "", 0


def cmd_false(sh: Shell, args, stdin):
    return "", "", 1


def cmd_grep(sh: Shell, args, stdin):
    flags, rest = _flags(args)
    if not rest:
        return "", "Usage: grep [OPTION]... PATTERNS [FILE]...\n", 2
    pattern, sources = rest[0], rest[1:]
    text, err, code = cmd_cat(sh, sources, stdin) if sources else (stdin, "", 0)
    regex = re.compile(pattern, re.IGNORECASE if "i" in flags else 0)
    hits = [line for line in text.splitlines() if bool(regex.search(line)) != ("v" in flags)]
    if "c" in flags:
        return f"{len(hits)}\n", err, 0 if hits else 1
    return "".join(f"{h}\n" for h in hits), err, (code or 2) if err else (0 if hits else 1)


def _count(args: list[str], default: int = 10) -> tuple[int, list[str]]:
    count, rest, i = default, [], 0
    while i < len(args):
        a = args[i]
        if a == "-n" and i + 1 < len(args):
            count, i = int(args[i + 1]), i + 1
        elif re.fullmatch(r"-n?\d+", a):
            count = int(a.lstrip("-n"))
        else:
            rest.append(a)
        i += 1
    return count, rest


def cmd_head(sh: Shell, args, stdin):
    count, files = _count(args)
    text, err, code = cmd_cat(sh, files, stdin) if files else (stdin, "", 0)
    return "".join(text.splitlines(keepends=True)[:count]), err, code


def cmd_tail(sh: Shell, args, stdin):
    count, files = _count(args)
    text, err, code = cmd_cat(sh, files, stdin) if files else (stdin, "", 0)
    lines = text.splitlines(keepends=True)
    return "".join(lines[-count:] if count else []), err, code


def cmd_wc(sh: Shell, args, stdin):
    flags, files = _flags(args)
    text, err, code = cmd_cat(sh, files, stdin) if files else (stdin, "", 0)
    counts = {"l": text.count("\n"), "w": len(text.split()), "c": len(text.encode())}
    shown = [counts[f] for f in "lwc" if f in flags] or list(counts.values())
    return " ".join(str(c) for c in shown) + "\n", err, code


def cmd_sort(sh: Shell, args, stdin):
    flags, files = _flags(args)
    text, err, code = cmd_cat(sh, files, stdin) if files else (stdin, "", 0)
    lines = sorted(text.splitlines(), reverse="r" in flags)
    return "".join(f"{line}\n" for line in lines), err, code


def cmd_sleep(sh: Shell, args, stdin):
    # Simulated time does not pass inside an exec.
    return "", "", 0


def cmd_touch(sh: Shell, args, stdin):
    fs, err = sh.filesystem(), []
    for path in args:
        real = sh.absolute(path)
        parent = posixpath.dirname(real)
        _, directory = sh.lookup(parent, fs)
        if (directory is not None and directory.read_only) or any(
            real.startswith(p.rstrip("/") + "/") and e.read_only and e.directory
            for p, e in fs.items()
        ):
            err.append(f"touch: cannot touch '{path}': Read-only file system\n")
        elif directory is None:
            err.append(f"touch: cannot touch '{path}': No such file or directory\n")
        # Writable paths accept the touch; the container has no persistent layer here.
    return "", "".join(err), 1 if err else 0


COMMANDS: dict[str, Callable] = {
    "echo": cmd_echo,
    "env": cmd_env,
    "printenv": cmd_printenv,
    "hostname": cmd_hostname,
    "date": cmd_date,
    "pwd": cmd_pwd,
    "cd": cmd_cd,
    "cat": cmd_cat,
    "ls": cmd_ls,
    "ps": cmd_ps,
    "whoami": cmd_whoami,
    "id": cmd_id,
    "uname": cmd_uname,
    "exit": cmd_exit,
    "sh": cmd_sh,
    "bash": cmd_sh,
    "true": cmd_true,
    "false": cmd_false,
    "grep": cmd_grep,
    "head": cmd_head,
    "tail": cmd_tail,
    "wc": cmd_wc,
    "sort": cmd_sort,
    "sleep": cmd_sleep,
    "touch": cmd_touch,
}
