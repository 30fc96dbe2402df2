"""A tiny POSIX-ish shell for `pods/exec`: enough to look around a container.

It answers the commands people type into `kubectl exec` (echo, env, cat, ls, ps ...)
against a small image-like filesystem plus the pod's mounted ConfigMaps and Secrets.
`files` may be a mapping or a zero-argument callable returning one; a callable is
read before every command, so a ConfigMap edit shows up on the next `cat` (the
kubelet's volume sync). Quoting, `$VAR`/`${VAR}`/`$?`, `$(...)` and backquotes, globs,
`;`, `&&`, `||`, `|`, redirections (`>`, `>>`, `<`, `2>&1`, `>&2`, `/dev/null`) and
`for NAME in ...; do ...; done` are understood; `while`/`until`/`if`/`case` blocks and
functions are not (they fail with exit code 2 and say so). A command the shell does not
have fails as busybox's does: `sh: NAME: not found`, exit code 127.

Data is binary-safe: stdin, pipes and stdout carry `str` whose undecodable bytes are
kept as surrogate escapes (`decode("utf-8", "surrogateescape")`), so `gzip`, `tar` and
`base64 -d` output reaches the client byte for byte (`encode_output`). Files written by
redirections or `tar x`/`gzip` live in the exec session's own writable layer
(`Shell.written`): the container's image is not changed for later execs.

Output mimics busybox/coreutils in a container without a TTY (one name per line).
"""

from __future__ import annotations

import base64
import fnmatch
import gzip
import hashlib
import io
import posixpath
import re
import tarfile
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from kubesim.runtime.volumes import ConfigError, File, env_for, mounted_files  # noqa: F401 (re-export)

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
# Images whose only shell is busybox's sh (so `bash` is not found, as on a real cluster).
NO_BASH = ("busybox", "alpine")


ENCODING = ("utf-8", "surrogateescape")
MAX_LOOP = 10_000  # iterations of one `for` loop


def decode_input(data: bytes) -> str:
    """Bytes from a client or a file as the shell's str (undecodable bytes kept)."""
    return data.decode(*ENCODING)


def encode_output(text: str) -> bytes:
    """The shell's str back to the exact bytes (inverse of decode_input)."""
    return text.encode(*ENCODING)


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
        # the session's writable layer: path -> File, or None for a removed path
        self.written: dict[str, File | None] = {}

    # ------------------------------------------------------------ entry points

    def run(self, command_line: str, stdin: str = "") -> tuple[str, str, int]:
        """Run a shell command line; returns (stdout, stderr, exit code). ``stdin`` is
        what the exec's stdin sent: the first command reading it gets it (`sh -c cat`)."""
        out, err = [], []
        try:
            statements = _statements(command_line)
        except ValueError as exc:
            return "", f"sh: {exc}\n", 2
        for op, text in statements:
            if self.exited:
                break
            if (op == "&&" and self.status != 0) or (op == "||" and self.status == 0):
                continue
            try:
                stdout, stderr, self.status = self._statement(text, stdin)
            except ValueError as exc:
                stdout, stderr, self.status = "", f"sh: {exc}\n", 2
            stdin = ""
            out.append(stdout)
            err.append(stderr)
        return "".join(out), "".join(err), self.status

    def _statement(self, text: str, stdin: str) -> tuple[str, str, int]:
        word = text.split(None, 1)[0] if text.split() else ""
        if word == "for":
            return self._for(text, stdin)
        if word in ("while", "until", "if", "case", "select", "function"):
            return "", f"sh: {word}: compound commands are not supported by kubesim's shell\n", 2
        out, err, code = [], [], 0
        for _, pipeline in _parse(text):
            stdout, stderr, code = self._pipeline(pipeline, stdin)
            stdin = ""
            out.append(stdout)
            err.append(stderr)
        return "".join(out), "".join(err), code

    def _for(self, text: str, stdin: str) -> tuple[str, str, int]:
        match = re.match(
            r"\s*for\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?:\s(?:in)\s+(.*?))?\s*(?:;|\n)\s*do\s(.*)$",
            text,
            re.DOTALL,
        )
        body = match[3].rstrip() if match else ""
        if not match or not re.search(r"(?:^|[;\n\s])done$", body):
            raise ValueError("syntax error: bad for loop")
        body = body[: -len("done")].rstrip().rstrip(";")
        if match[2] is None:
            values: list[str] = []
        else:
            values = []
            for _, pipeline in _parse(match[2]):
                for words in pipeline:
                    values.extend(self._expand(words))
        out, err, code = [], [], 0
        for value in values[:MAX_LOOP]:
            self.env[match[1]] = value
            stdout, stderr, code = self.run(body, stdin)
            stdin = ""
            out.append(stdout)
            err.append(stderr)
            if self.exited:
                break
        return "".join(out), "".join(err), code

    def subshell(self) -> Shell:
        """A child shell (`sh -c`, `$(...)`): the same environment, cwd and writable layer."""
        child = Shell(
            self.pod, self.container.get("name", ""), self._files, {}, self.hostname, self.now
        )
        child.arch, child.env, child.cwd, child.written = (
            self.arch,
            dict(self.env),
            self.cwd,
            self.written,
        )
        child.status = self.status
        return child

    def run_argv(self, argv: list[str]) -> tuple[str, str, int]:
        """Run an exec request's argv directly (no shell parsing, like the runtime)."""
        if not argv:
            raise ExecError("command must not be empty")
        if not self.has(argv[0]):
            raise ExecError(
                "OCI runtime exec failed: exec failed: unable to start container process: "
                f'exec: "{argv[0]}": executable file not found in $PATH: unknown'
            )
        out, err, self.status = self._command(argv, "")
        return out, err, self.status

    def has(self, binary: str) -> bool:
        """Whether the image ships ``binary`` (busybox and alpine images have no bash)."""
        name = image_name(binary)
        if name not in COMMANDS:
            return False
        image = self.container.get("image", "")
        small = image_name(image) in NO_BASH or "alpine" in image.rsplit(":", 1)[-1]
        return not (name == "bash" and small)

    # ------------------------------------------------------------ execution

    def _pipeline(self, pipeline: list[list], stdin: str = "") -> tuple[str, str, int]:
        errors, code = [], 0
        for words in pipeline:
            plain, redirections = _split_redirections(words)
            argv = self._expand(plain)
            # the fd table: where the command's stdout (1) and stderr (2) go
            table: dict[str, tuple] = {"1": ("out",), "2": ("err",)}
            failure = None
            for op, target_words in redirections:
                fd, kind = re.match(r"(\d?)(>>|>&|>|<)", op).groups()
                if kind == ">&":
                    table[fd or "1"] = table.get(op[-1], ("out",))
                    continue
                targets = self._expand(target_words)
                if len(targets) != 1:
                    failure = "sh: ambiguous redirect\n"
                    break
                path = targets[0]
                if kind == "<":
                    _, entry = self.lookup(path)
                    if entry is None or entry.directory:
                        failure = f"sh: can't open '{path}': No such file or directory\n"
                        break
                    stdin = decode_input(bytes(entry))
                    continue
                problem = self.writable(path)
                if problem:
                    failure = f"sh: can't create {path}: {problem}\n"
                    break
                if kind == ">" and path != "/dev/null":
                    self.write(path, b"")  # truncated at once, as the shell opens it
                table[fd or "1"] = ("file", path)
            if failure:
                stdin, code = "", 1
                errors.append(failure)
                continue
            if not argv:
                stdin = ""
                continue
            out, err, code = self._command(argv, stdin)
            stdin = ""
            for text, fd in ((out, "1"), (err, "2")):
                sink = table[fd]
                if sink[0] == "out":
                    stdin += text
                elif sink[0] == "err":
                    errors.append(text)
                elif sink[1] != "/dev/null" and text:
                    self.append(sink[1], encode_output(text))
        return stdin, "".join(errors), code

    def _command(self, argv: list[str], stdin: str) -> tuple[str, str, int]:
        name = argv[0].rsplit("/", 1)[-1] if argv[0].startswith("/") else argv[0]
        handler = COMMANDS.get(name)
        if handler is None or (name == "bash" and not self.has("bash")):
            return "", f"sh: {argv[0]}: not found\n", NOT_FOUND
        return handler(self, argv[1:], stdin)

    def _expand(self, words: list[list[tuple[str, str]]]) -> list[str]:
        argv = []
        for pieces in words:
            text = "".join(self._piece(kind, value) for kind, value in pieces)
            unquoted_only = all(kind in ("var", "cmd") for kind, _ in pieces)
            if unquoted_only:
                argv.extend(text.split())  # field splitting; an empty expansion disappears
                continue
            has_glob = any(kind == "glob" for kind, _ in pieces)
            argv.extend(self._glob(text) if has_glob else [text])
        return argv

    def _piece(self, kind: str, value: str) -> str:
        if kind in ("var", "qvar"):
            return str(self.status) if value == "?" else self.env.get(value, "")
        if kind in ("cmd", "qcmd"):
            out, _, self.status = self.subshell().run(value)
            return out.rstrip("\n")
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
        for path, content in self.written.items():
            if content is None:
                fs.pop(path, None)
            else:
                fs[path] = content
        return fs

    # ------------------------------------------------------------ the writable layer

    def writable(self, path: str) -> str | None:
        """Why `path` cannot be written (busybox's words), or None."""
        if path == "/dev/null":
            return None
        fs = self.filesystem()
        real = self.absolute(path)
        _, directory = self.lookup(posixpath.dirname(real), fs)
        if directory is None or not directory.directory:
            return "nonexistent directory"
        entry = fs.get(real)
        if entry is not None and entry.directory:
            return "Is a directory"
        if (directory.read_only or (entry is not None and entry.read_only)) or any(
            real.startswith(p.rstrip("/") + "/") and e.read_only and e.directory
            for p, e in fs.items()
        ):
            return "Read-only file system"
        return None

    def write(self, path: str, content: bytes, mode: int = 0o644) -> None:
        self.written[self.absolute(path)] = File(content, mode=mode)

    def append(self, path: str, content: bytes) -> None:
        _, entry = self.lookup(path)
        old = bytes(entry) if entry is not None and not entry.directory else b""
        self.write(path, old + content)

    def remove(self, path: str) -> None:
        self.written[self.absolute(path)] = None

    def read(self, path: str, command: str) -> tuple[bytes | None, str]:
        """(content, error line) of a file argument."""
        _, entry = self.lookup(path)
        if entry is None:
            return None, f"{command}: {path}: No such file or directory\n"
        if entry.directory:
            return None, f"{command}: {path}: Is a directory\n"
        return bytes(entry), ""

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

_BLOCK_OPEN = {"for", "while", "until", "if", "case", "select"}
_BLOCK_CLOSE = {"done", "fi", "esac"}
_AFTER_KEYWORD = {"do", "then", "else", "elif", "in"} | _BLOCK_OPEN


def _skip_quoted(line: str, i: int) -> int:
    """Index of the closing quote of the quote at line[i] (ValueError if unterminated)."""
    quote = line[i]
    j = i + 1
    while j < len(line):
        if quote == '"' and line[j] == "\\":
            j += 2
            continue
        if line[j] == quote:
            return j
        if quote == '"' and line.startswith("$(", j):
            j = _closing_paren(line, j + 1)
        j += 1
    raise ValueError("syntax error: unterminated quoted string")


def _closing_paren(line: str, i: int) -> int:
    """Index of the `)` closing the `(` at line[i]."""
    depth, j = 0, i
    while j < len(line):
        ch = line[j]
        if ch in "'\"":
            j = _skip_quoted(line, j)
        elif ch == "\\":
            j += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    raise ValueError("syntax error: unterminated $(")


def _statements(line: str) -> list[tuple[str, str]]:
    """Split a command line at its top-level `;`, newlines, `&&` and `||` into
    [(operator before it, text)], keeping `for ... done` (and other blocks) whole."""
    out: list[tuple[str, str]] = []
    depth, start, op, i, n = 0, 0, ";", 0, len(line)
    command_start = True

    def flush(end: int, next_op: str) -> None:
        nonlocal start, op
        text = line[start:end].strip()
        if text:
            out.append((op, text))
        elif next_op in ("&&", "||"):
            raise ValueError(f'syntax error: unexpected "{next_op}"')
        op = next_op

    while i < n:
        ch = line[i]
        if ch in "'\"":
            i = _skip_quoted(line, i) + 1
            command_start = False
            continue
        if ch == "\\":
            i += 2
            continue
        if ch == "$" and line.startswith("$(", i):
            i = _closing_paren(line, i + 1) + 1
            command_start = False
            continue
        if ch == "`":
            close = line.find("`", i + 1)
            if close < 0:
                raise ValueError("syntax error: unterminated quoted string")
            i = close + 1
            continue
        if ch == "#" and command_start:
            end = line.find("\n", i)
            line = line[:i] + (line[end:] if end >= 0 else "")
            n = len(line)
            continue
        sep = line[i : i + 2] if line.startswith(("&&", "||"), i) else ch
        if sep in (";", "\n", "&&", "||"):
            if depth == 0:
                flush(i, ";" if sep == "\n" else sep)
                start = i + len(sep)
            i += len(sep)
            command_start = True
            continue
        if ch == "|":
            command_start = True
            i += 1
            continue
        if ch in " \t":
            i += 1
            continue
        match = re.match(r"[^\s;&|()]+", line[i:])
        word = match[0] if match else ch
        if command_start and word in _BLOCK_OPEN:
            depth += 1
        elif command_start and word in _BLOCK_CLOSE:
            depth = max(depth - 1, 0)
        command_start = word in _AFTER_KEYWORD if command_start else False
        i += len(word)
    if depth:
        raise ValueError('syntax error: unexpected end of file (expecting "done")')
    flush(n, ";")
    return out


def _split_redirections(words: list[list]) -> tuple[list[list], list[tuple[str, list]]]:
    """(the command's words, [(redirection operator, target word)])."""
    plain: list[list] = []
    redirections: list[tuple[str, list]] = []
    pending = None
    for pieces in words:
        if pieces and pieces[0][0] == "redir":
            op = pieces[0][1]
            if "&" in op:
                redirections.append((op, []))  # 2>&1, >&2: no target word
            else:
                pending = op
            continue
        if pending is not None:
            redirections.append((pending, [pieces]))
            pending = None
        else:
            plain.append(pieces)
    if pending is not None:
        raise ValueError("syntax error: unexpected newline")
    return plain, redirections


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
        elif ch in "<>":
            fd = ""
            if started and len(pieces) == 1 and pieces[0] in (("lit", "1"), ("lit", "2")):
                fd, pieces, started = pieces[0][1], [], False
            end_word()
            if line.startswith((">>",), i):
                op, i = f"{fd}>>", i + 1
            elif line.startswith(">&", i):
                target = line[i + 2 : i + 3]
                if target not in ("1", "2"):
                    raise ValueError("syntax error: bad fd number")
                op, i = f"{fd or '1'}>&{target}", i + 2
            else:
                op = f"{fd}{ch}"
            words.append([("redir", op)])
        elif ch == "\\" and i + 1 < n:
            pieces.append(("lit", line[i + 1]))
            started, i = True, i + 1
        elif ch == "$" and line.startswith("$(", i):
            close = _closing_paren(line, i + 1)
            pieces.append(("cmd", line[i + 2 : close]))
            started, i = True, close
        elif ch == "`":
            close = line.find("`", i + 1)
            if close < 0:
                raise ValueError("syntax error: unterminated quoted string")
            pieces.append(("cmd", line[i + 1 : close]))
            started, i = True, close
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
        elif ch == "$" and line.startswith("$(", i):
            close = _closing_paren(line, i + 1)
            pieces.append(("qcmd", line[i + 2 : close]))
            i = close
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
            out.append(decode_input(bytes(entry)))
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
        return sh.subshell().run(args[1], stdin)
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


def _bytes_count(args: list[str]) -> tuple[int | None, list[str]]:
    """`-c N` (bytes instead of lines) taken out of args."""
    for i, a in enumerate(args):
        if a == "-c" and i + 1 < len(args) and _is_int(args[i + 1]):
            return int(args[i + 1]), args[:i] + args[i + 2 :]
        if a.startswith("-c") and _is_int(a[2:]):
            return int(a[2:]), args[:i] + args[i + 1 :]
    return None, args


def cmd_head(sh: Shell, args, stdin):
    size, args = _bytes_count(args)
    count, files = _count(args)
    text, err, code = cmd_cat(sh, files, stdin) if files else (stdin, "", 0)
    if size is not None:
        return decode_input(encode_output(text)[:size]), err, code
    return "".join(text.splitlines(keepends=True)[:count]), err, code


def cmd_tail(sh: Shell, args, stdin):
    size, args = _bytes_count(args)
    count, files = _count(args)
    text, err, code = cmd_cat(sh, files, stdin) if files else (stdin, "", 0)
    if size is not None:
        data = encode_output(text)
        return decode_input(data[-size:] if size else b""), err, code
    lines = text.splitlines(keepends=True)
    return "".join(lines[-count:] if count else []), err, code


def cmd_wc(sh: Shell, args, stdin):
    flags, files = _flags(args)
    text, err, code = cmd_cat(sh, files, stdin) if files else (stdin, "", 0)
    counts = {"l": text.count("\n"), "w": len(text.split()), "c": len(encode_output(text))}
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


def cmd_seq(sh: Shell, args, stdin):
    try:
        numbers = [int(a) for a in args]
    except ValueError:
        return "", f"seq: invalid number '{next(a for a in args if not _is_int(a))}'\n", 1
    if not 1 <= len(numbers) <= 3:
        return "", "Usage: seq [-w] [-s SEP] [FIRST [INC]] LAST\n", 1
    first, step, last = (
        (1, 1, numbers[0])
        if len(numbers) == 1
        else (numbers[0], 1, numbers[1])
        if len(numbers) == 2
        else numbers
    )
    if step == 0:
        return "", "seq: invalid Zero increment value: '0'\n", 1
    values = range(first, last + (1 if step > 0 else -1), step)[:MAX_LOOP]
    return "".join(f"{v}\n" for v in values), "", 0


def _is_int(text: str) -> bool:
    return bool(re.fullmatch(r"-?\d+", text))


def cmd_uptime(sh: Shell, args, stdin):
    now = sh.now().astimezone(UTC)
    started = (sh.pod.get("status") or {}).get("startTime")
    seconds = 0
    if started:
        try:
            since = datetime.fromisoformat(started.replace("Z", "+00:00"))
            seconds = max(int((now - since).total_seconds()), 0)
        except ValueError:
            seconds = 0
    days, rest = divmod(seconds, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    up = f"{days} day{'s' if days != 1 else ''}, " if days else ""
    up += f"{hours:2d}:{minutes:02d}" if hours else f"{minutes} min"
    line = f" {now:%H:%M:%S} up {up},  0 users,  load average: 0.00, 0.00, 0.00"
    return line + "\n", "", 0


def _inputs(sh: Shell, files: list[str], stdin: str, command: str):
    """[(name, bytes)] of the file arguments (`-` or none: stdin), and the error lines."""
    out, err = [], []
    for path in files or ["-"]:
        if path == "-":
            out.append(("-", encode_output(stdin)))
            continue
        content, problem = sh.read(path, command)
        if content is None:
            err.append(problem)
        else:
            out.append((path, content))
    return out, "".join(err)


def cmd_gzip(sh: Shell, args, stdin, decompress=False, to_stdout=False):
    flags, files = _flags(args)
    decompress = decompress or "d" in flags
    to_stdout = to_stdout or "c" in flags or not files or files == ["-"]
    inputs, err = _inputs(sh, files, stdin, "gzip")
    out, code = [], 1 if err else 0
    for name, data in inputs:
        try:
            result = gzip.decompress(data) if decompress else gzip.compress(data, mtime=0)
        except (OSError, EOFError, zlib.error):
            err += f"gzip: {name}: not in gzip format\n"
            code = 1
            continue
        if to_stdout or name == "-":
            out.append(decode_input(result))
            continue
        target = name[: -len(".gz")] if decompress and name.endswith(".gz") else f"{name}.gz"
        if decompress and not name.endswith(".gz"):
            err += f"gzip: {name}: unknown suffix -- ignored\n"
            code = 1
            continue
        problem = sh.writable(target)
        if problem:
            err += f"gzip: can't open '{target}': {problem}\n"
            code = 1
            continue
        sh.write(target, result)
        if "k" not in flags:
            sh.remove(name)
    return "".join(out), err, code


def cmd_gunzip(sh: Shell, args, stdin):
    return cmd_gzip(sh, args, stdin, decompress=True)


def cmd_zcat(sh: Shell, args, stdin):
    return cmd_gzip(sh, args, stdin, decompress=True, to_stdout=True)


def cmd_base64(sh: Shell, args, stdin):
    flags, files, wrap = set(), [], 76
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-w", "--wrap") and i + 1 < len(args):
            wrap, i = int(args[i + 1]) if _is_int(args[i + 1]) else 76, i + 1
        elif a.startswith("-w") and _is_int(a[2:]):
            wrap = int(a[2:])
        elif a in ("-d", "--decode"):
            flags.add("d")
        elif a.startswith("-") and a != "-":
            flags.update(a[1:])
        else:
            files.append(a)
        i += 1
    inputs, err = _inputs(sh, files[:1], stdin, "base64")
    if err:
        return "", err, 1
    data = inputs[0][1]
    if "d" in flags:
        try:
            return decode_input(base64.b64decode(b"".join(data.split()), validate=True)), "", 0
        except ValueError:
            return "", "base64: invalid input\n", 1
    encoded = base64.b64encode(data).decode()
    if wrap and encoded:
        encoded = "\n".join(encoded[k : k + wrap] for k in range(0, len(encoded), wrap))
    return (encoded + "\n") if encoded else "", "", 0


def _digest(algorithm: str):
    def command(sh: Shell, args, stdin):
        _, files = _flags(args)
        inputs, err = _inputs(sh, files, stdin, f"{algorithm}sum")
        lines = [f"{hashlib.new(algorithm, data).hexdigest()}  {name}\n" for name, data in inputs]
        return "".join(lines), err, 1 if err else 0

    return command


def cmd_printf(sh: Shell, args, stdin):
    if not args:
        return "", "printf: usage: printf FORMAT [ARGUMENT]...\n", 2
    fmt, values = args[0], list(args[1:])
    fmt = fmt.encode().decode("unicode_escape") if "\\" in fmt else fmt
    count = len(re.findall(r"%[sdi]", fmt))
    out = []
    while True:
        chunk, values = values[:count], values[count:]
        out.append(_format(fmt, chunk))
        if not values or not count:
            break
    return "".join(out), "", 0


def _format(fmt: str, values: list[str]) -> str:
    it = iter(values)

    def one(match: re.Match) -> str:
        if match[1] == "%":
            return "%"
        value = next(it, "")
        return value or ("" if match[1] == "s" else "0")

    return re.sub(r"%([sdi%])", one, fmt)


def cmd_mkdir(sh: Shell, args, stdin):
    flags, paths = _flags(args)
    err = []
    for path in paths:
        real = sh.absolute(path)
        _, entry = sh.lookup(real)
        if entry is not None:
            if "p" not in flags:
                err.append(f"mkdir: can't create directory '{path}': File exists\n")
            continue
        problem = sh.writable(real)
        if problem and not ("p" in flags and problem == "nonexistent directory"):
            err.append(f"mkdir: can't create directory '{path}': {problem}\n")
            continue
        sh.written[real] = File(directory=True, mode=0o755)
    return "", "".join(err), 1 if err else 0


def cmd_rm(sh: Shell, args, stdin):
    flags, paths = _flags(args)
    err = []
    fs = sh.filesystem()
    for path in paths:
        real = sh.absolute(path)
        _, entry = sh.lookup(real, fs)
        if entry is None:
            if "f" not in flags:
                err.append(f"rm: can't remove '{path}': No such file or directory\n")
            continue
        if sh.writable(real):
            err.append(f"rm: can't remove '{path}': {sh.writable(real)}\n")
            continue
        if entry.directory and "r" not in flags:
            err.append(f"rm: '{path}' is a directory\n")
            continue
        for p in [p for p in fs if p == real or p.startswith(real.rstrip("/") + "/")]:
            sh.remove(p)
    return "", "".join(err), 1 if err else 0


def cmd_tee(sh: Shell, args, stdin):
    flags, files = _flags(args)
    err = []
    for path in files:
        problem = sh.writable(path)
        if problem:
            err.append(f"tee: {path}: {problem}\n")
        elif "a" in flags:
            sh.append(path, encode_output(stdin))
        else:
            sh.write(path, encode_output(stdin))
    return stdin, "".join(err), 1 if err else 0


def _tar_args(args: list[str]) -> tuple[set[str], str | None, str | None, list[str]]:
    """(mode letters, archive file, -C directory, members) from tar's old or dashed style."""
    letters: set[str] = set()
    archive = directory = None
    rest: list[str] = []
    args = list(args)
    if args and not args[0].startswith("-"):
        args[0] = "-" + args[0]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-C" and i + 1 < len(args):
            directory, i = args[i + 1], i + 2
            continue
        if a.startswith("--"):
            i += 1
            continue
        if a.startswith("-") and len(a) > 1:
            for ch in a[1:]:
                letters.add(ch)
                if ch == "f" and i + 1 < len(args):
                    archive, i = args[i + 1], i + 1
            i += 1
            continue
        rest.append(a)
        i += 1
    return letters, archive, directory, rest


def cmd_tar(sh: Shell, args, stdin):
    """tar c (to stdout or a file), t, x (into the session's layer, or -O to stdout); z for
    gzip. What `kubectl cp` runs in the container."""
    letters, archive, directory, members = _tar_args(args)
    saved_cwd = sh.cwd
    try:
        if directory:
            _, entry = sh.lookup(directory)
            if entry is None or not entry.directory:
                return "", f"tar: can't change directory to '{directory}'\n", 1
            sh.cwd = sh.absolute(directory)
        if "c" in letters:
            return _tar_create(sh, letters, archive, members)
        if "t" in letters or "x" in letters:
            return _tar_read(sh, letters, archive, members, stdin)
        return "", "tar: need to specify one of -c, -t, -x\n", 1
    finally:
        sh.cwd = saved_cwd


def _tar_create(sh: Shell, letters, archive, members):
    if not members:
        return "", "tar: empty archive\n", 1
    fs = sh.filesystem()
    buffer, err = io.BytesIO(), []
    mtime = int(sh.now().timestamp())
    with tarfile.open(fileobj=buffer, mode="w:gz" if "z" in letters else "w") as tar:
        for member in members:
            real, entry = sh.lookup(member, fs)
            if entry is None:
                err.append(f"tar: {member}: No such file or directory\n")
                continue
            paths = [real, *sorted(p for p in fs if p.startswith(real.rstrip("/") + "/"))]
            for path in paths:
                _, item = sh.lookup(path, fs)
                if item is None:
                    continue
                name = member.rstrip("/") + path[len(real) :]
                name = name.lstrip("/")
                info = tarfile.TarInfo(name or ".")
                info.mtime, info.mode = mtime, item.mode
                if item.directory:
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                else:
                    info.size = len(item)
                    tar.addfile(info, io.BytesIO(bytes(item)))
    data = buffer.getvalue()
    if archive and archive != "-":
        problem = sh.writable(archive)
        if problem:
            return "", f"tar: can't open '{archive}': {problem}\n", 1
        sh.write(archive, data)
        return "", "".join(err), 1 if err else 0
    return decode_input(data), "".join(err), 1 if err else 0


def _tar_read(sh: Shell, letters, archive, members, stdin):
    if archive and archive != "-":
        data, problem = sh.read(archive, "tar")
        if data is None:
            return "", problem, 1
    else:
        data = encode_output(stdin)
    try:
        tar = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")  # noqa: SIM115 (closed below)
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        return "", "tar: invalid tar magic\n", 1
    out, err = [], []
    with tar:
        for info in tar.getmembers():
            if members and not any(
                info.name == m.rstrip("/") or info.name.startswith(m.rstrip("/") + "/")
                for m in members
            ):
                continue
            if "t" in letters:
                out.append(f"{info.name}\n")
                continue
            content = tar.extractfile(info).read() if info.isfile() else b""
            if "O" in letters:
                out.append(decode_input(content))
                continue
            target = sh.absolute(info.name)
            if info.isdir():
                sh.written[target] = File(directory=True, mode=info.mode or 0o755)
                continue
            problem = sh.writable(target)
            if problem == "nonexistent directory":
                sh.written[posixpath.dirname(target)] = File(directory=True, mode=0o755)
                problem = sh.writable(target)
            if problem:
                err.append(f"tar: can't open '{info.name}': {problem}\n")
                continue
            sh.write(target, content, info.mode or 0o644)
            if "v" in letters:
                out.append(f"{info.name}\n")
    return "".join(out), "".join(err), 1 if err else 0


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
    "seq": cmd_seq,
    "uptime": cmd_uptime,
    "gzip": cmd_gzip,
    "gunzip": cmd_gunzip,
    "zcat": cmd_zcat,
    "base64": cmd_base64,
    "md5sum": _digest("md5"),
    "sha256sum": _digest("sha256"),
    "printf": cmd_printf,
    "mkdir": cmd_mkdir,
    "rm": cmd_rm,
    "tee": cmd_tee,
    "tar": cmd_tar,
}
