"""The gateway command line: one sub-command per job (see ``build_parser`` and docs/command-line.md).

Exit codes: 0 done, 1 a runtime failure (one line on stderr), 2 an invalid config or policy (every
error as file:line:col), 3 the network refused the bot's credentials (fix them; retrying cannot help).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

from .yamlfiles.checker import parse_duration
from .yamlfiles.located import ConfigError, ConfigErrors

EXIT_OK, EXIT_ERROR, EXIT_INVALID, EXIT_REFUSED = 0, 1, 2, 3

DESCRIPTION = "Safeguarding gateway for Matrix rooms and IRC channels."
EPILOG = """\
first steps:
  gateway demo                          the at-risk flow on a throwaway local Synapse
  gateway init --room ROOM --moderators-room ROOM --matrix-homeserver URL --matrix-user USER_ID
                                        a starter gateway.yaml and room policy (for IRC: init --help)
  gateway check --config gateway.yaml   validate it and every policy it names
  gateway run --config gateway.yaml     run it

exit codes: 0 done; 1 runtime failure; 2 invalid config or policy (each error at file:line:col);
3 credentials refused by the network (fix them: retrying cannot help)"""


def _errors(exc: ConfigError | ConfigErrors) -> list[ConfigError]:
    return exc.errors if isinstance(exc, ConfigErrors) else [exc]


def _print_errors(exc: ConfigError | ConfigErrors) -> int:
    errs = _errors(exc)
    for e in errs:
        print(e, file=sys.stderr)
    print(f"{len(errs)} error{'s' if len(errs) != 1 else ''}; nothing was applied.", file=sys.stderr)
    return EXIT_INVALID


# -- check ------------------------------------------------------------------------------------

def cmd_check(args: argparse.Namespace) -> int:
    from .config.config_file import load_config
    from .detection import detector_for
    from .policy.loader import PolicyLoader

    if args.policy:
        try:
            p = PolicyLoader().load(args.policy)
        except (ConfigError, ConfigErrors) as exc:
            return _print_errors(exc)
        rules = sum(len(t.rules) for t in p.tiers.values())
        _print_changes(p)
        _print_everyday(p)
        print(f"ok: policy {p.name} ({p.file}): {len(p.tiers)} tiers, {rules} rules, "
              f"{detector_for(p).phrase_count} phrases, region {p.region}, mode {p.mode}")
        return EXIT_OK
    try:
        cfg = load_config(args.config)
    except (ConfigError, ConfigErrors) as exc:
        return _print_errors(exc)
    for policy in sorted(cfg.policies.values(), key=lambda p: p.name):
        _print_changes(policy)
        _print_everyday(policy)
    for net in cfg.networks.values():
        for key, name in net.settings.items():
            if key.endswith("_env") and not os.environ.get(name):
                print(f"warning: networks.{net.name}.{key}: the environment variable {name} is not set here; "
                      f"gateway run needs it", file=sys.stderr)
    for net in cfg.networks.values():
        line = encryption_line(net)
        if line:
            print(line)
    for line in moderators_room_warnings(cfg) + host_warnings(cfg):
        print(f"warning: {line}", file=sys.stderr)
    today = dt.date.today()
    for code, line in cfg.directory.stale(today):
        print(f"warning: {cfg.directory.source_file}: {code} {line.service}: last verified "
              f"{line.verified}, more than 12 months ago; re-check it", file=sys.stderr)
    for b in cfg.rooms:
        if b.region not in cfg.directory.regions:
            print(f"warning: {b.network} {b.room}: no crisis lines for region {b.region}; messages will "
                  f"point to the international directory and the local emergency number", file=sys.stderr)
    print(f"ok: {cfg.file}: {len(cfg.networks)} network(s), {len(cfg.rooms)} room(s), policies "
          f"{', '.join(sorted(p.name for p in cfg.policies.values()))}; crisis lines for "
          f"{len(cfg.directory.regions)} regions")
    return EXIT_OK


def moderators_room_warnings(cfg) -> list[str]:
    """What ``check`` can say offline about the moderators' rooms (the rooms' own state, invite-only and
    encrypted, is checked by ``gateway run`` at start, where it refuses an exposed room the policy does
    not allow): an exposure a policy allows on purpose, and alerts that leave an encrypting network."""
    out, seen = [], set()
    for b in cfg.rooms:
        m, where = b.policy.moderators, f"{b.moderators_network} {b.moderators_room}"
        for allowed, key, what in ((m.allow_open_room, "allow_open_room",
                                    "may be a room anyone can join (public, or an IRC channel without +i/+s): "
                                    "whoever joins reads alerts that name people at risk"),
                                   (m.allow_unencrypted_room, "allow_unencrypted_room",
                                    "may be unencrypted although a room it serves is encrypted")):
            if allowed and (where, key) not in seen:
                seen.add((where, key))
                out.append(f"{b.policy.file}: moderators.{key}: the moderators' room {where} {what}; "
                           f"remove the key unless this is intended")
        watched, mods = cfg.networks.get(b.network), cfg.networks.get(b.moderators_network)
        if watched is not None and mods is not None and watched.type == "matrix" and mods.type != "matrix" \
                and (watched.settings.get("encryption") or {}).get("enabled") and not m.allow_unencrypted_room:
            out.append(f"{b.network} {b.room}: its alerts go to {where}, which is not end-to-end encrypted: "
                       f"gateway run refuses to start if {b.room} is encrypted (use a Matrix moderators' room, or "
                       f"set moderators.allow_unencrypted_room: true in policy {b.policy.name})")
    return out


def host_warnings(cfg) -> list[str]:
    """What ``check`` can see of the machine it runs on: an HTTP listener others can reach, an event log this
    user cannot write (``gateway run`` as the same user stops at start with the same words)."""
    import ipaddress

    from .store.eventlog import unwritable
    from .yamlfiles.located import load_located

    doc = load_located(cfg.file)

    def at(*path: str) -> str:
        mark = doc.mark(path)
        return f"{mark.file}:{mark.line}: {'.'.join(path)}"

    out = []
    if cfg.http is not None:
        host, port = cfg.http
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = None
        if host != "localhost" and not (ip and ip.is_loopback):
            who = (f"anyone who can reach this machine on port {port} (it listens on every network interface)"
                   if ip is not None and ip.is_unspecified else f"anyone who can reach {host} on port {port}")
            out.append(f"{at('http', 'listen')}: {host}:{port} is not loopback: {who} can read /metrics (case "
                       f"counts by room and tier) and /healthz, /readyz, without a password; listen on "
                       f"127.0.0.1:{port} and put a reverse proxy with authentication or a firewall in front")
    problem = unwritable(cfg.event_log)
    if problem:
        out.append(f"{at('event_log')}: {problem}; gateway run as this user would stop at start")
    return out


def encryption_line(net) -> str | None:
    """Where a Matrix network keeps its crypto store and pickle key, for ``check`` and ``status``."""
    e = net.settings.get("encryption")
    if net.type != "matrix" or e is None:
        return None
    if not e["enabled"]:
        return (f"networks.{net.name}: encryption off: messages in encrypted rooms are counted as "
                f"unreadable and reported, never read")
    key = (f"from ${e['pickle_key_env']}" if e.get("pickle_key_env")
           else f"in {e['pickle_key_file']} ({'exists' if Path(e['pickle_key_file']).exists() else 'created at first start'}, 0600)")
    return (f"networks.{net.name}: encryption on, sending keys to {e['trust']}; crypto store {e['store']} "
            f"(0700, keys only, no message text); pickle key {key}")


def _print_languages_without_rules(log, names: dict) -> None:
    """Lines in a language with no shipped rules, per room and language (counts only): where the
    detection reads nothing, so the operator knows."""
    from .detection.language import SUPPORTED

    day = log.counts_by_room_and_code("no_rules_language", time.time() - 86400)
    ever = log.counts_by_room_and_code("no_rules_language")
    if not ever:
        print("lines in a language with no rules: none")
        return
    print("lines in a language with no rules (risk detection cannot read them; rules exist for "
          f"{', '.join(SUPPORTED)}), "
          "last 24 h / all time:")
    for (room, language), n in ever.items():
        print(f"  {names.get(room, room)} ({room}), {language}: {day.get((room, language), 0)} / {n}")


def cmd_status(args: argparse.Namespace) -> int:
    """What an operator needs to know about a gateway at a glance, read from its files (it may be
    running): each Matrix network's device and crypto store, and what it could not read."""

    from .config.config_file import load_config
    from .store.eventlog import EventLog, EventLogError

    try:
        cfg = load_config(args.config)
    except (ConfigError, ConfigErrors) as exc:
        return _print_errors(exc)
    print(f"config: {cfg.file}")
    for net in cfg.networks.values():
        line = encryption_line(net)
        if line:
            from adapters.matrix.crypto import saved_device

            print(line)
            device = saved_device(Path(net.settings["encryption"]["store"]))
            print(f"networks.{net.name}: device {device or '(none yet: created at first start)'}")
    if not cfg.event_log.exists():
        print(f"event log: {cfg.event_log} (not created yet)")
        return EXIT_OK
    try:
        log = EventLog(cfg.event_log)
    except EventLogError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        stats = log.stats()
        print(f"event log: {cfg.event_log}: {stats['events']} events, last {stats['last'] or 'never'}; "
              f"cases: {stats['cases_by_status']}")
        day = log.counts_by_room("undecryptable", time.time() - 86400)
        ever = log.counts_by_room("undecryptable")
        names = {(b.room): b.display_name for b in cfg.rooms}
        if not ever:
            print("undecryptable encrypted messages: none")
        else:
            print("undecryptable encrypted messages (the bot could not read them: no key was shared with its "
                  "device), last 24 h / all time:")
            for room, n in ever.items():
                where = f"{names.get(room, room)} ({room})" if room else "direct rooms"
                print(f"  {where}: {day.get(room, 0)} / {n}")
        _print_languages_without_rules(log, names)
    finally:
        log.close()
    return EXIT_OK


def _print_everyday(policy) -> None:
    """A warning for each rule that fires on more than 1% of the shipped everyday chat."""
    from .detection import detector_for
    from .detection.evaluate import everyday_warnings

    for line in everyday_warnings(policy, detector_for(policy).own):  # the policy's own rules, not another language's
        print(f"warning: {line}", file=sys.stderr)


def _print_changes(policy) -> None:
    """What an extending policy changes against its parent; changes that weaken detection as warnings."""
    from .policy.loader import PolicyLoader
    from .policy.diff import compare

    if not policy.extends:
        return
    parent = PolicyLoader([Path(policy.extends).parent]).load(policy.extends)
    changes = compare(parent, policy)
    if not changes:
        return
    weak = sum(c.weakens for c in changes)
    out = sys.stderr if weak else sys.stdout  # one block, in one place
    print(f"policy {policy.name} extends {parent.name}: {len(changes)} change(s) that matter for detection"
          + (f", {weak} of them weakening it" if weak else "") + ":", file=out)
    for c in changes:
        print(f"  {c}", file=out)
    out.flush()


# -- init -------------------------------------------------------------------------------------

def cmd_init(args: argparse.Namespace) -> int:
    from .policy.crisis_lines import ISO_REGIONS
    from .config.starter import Starter, data_dir_setting, next_steps, write_starter

    host, port = args.irc_host, None
    if host and ":" in host and host.rsplit(":", 1)[1].isdigit():
        host, port = host.rsplit(":", 1)[0], int(host.rsplit(":", 1)[1])
    region = args.region.strip().upper() if args.region.strip().upper() in ISO_REGIONS else args.region
    starter = Starter(rooms=args.room or [], moderators_rooms=args.moderators_room or [], region=region,
                      policy_name=args.policy_name, matrix_homeserver=args.matrix_homeserver,
                      matrix_user=args.matrix_user, irc_host=host, irc_port=port, irc_tls=not args.no_irc_tls,
                      irc_nick=args.irc_nick, irc_account=args.irc_account,
                      data_dir=data_dir_setting(Path(args.dir), args.data_dir))
    problems = starter.problems()
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    directory = Path(args.dir)
    try:
        written = write_starter(starter, directory, force=args.force)
    except (FileExistsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for path in written:
        print(f"wrote {path}")
    print(f"checking it as `gateway check --config {written[0]}` would:")
    rc = cmd_check(argparse.Namespace(config=str(written[0]), policy=None))
    if rc == EXIT_OK:
        steps, warnings = next_steps(starter, written[0])
        for line in warnings:
            print(f"warning: {line}", file=sys.stderr)
        print("\n".join(steps))
    return rc


# -- scan -------------------------------------------------------------------------------------

def cmd_scan(args: argparse.Namespace) -> int:
    from .core.quotes import own_words
    from .detection import detector_for
    from .policy.loader import PolicyLoader

    try:
        policy = PolicyLoader().load(args.policy)
    except (ConfigError, ConfigErrors) as exc:
        return _print_errors(exc)
    detector = detector_for(policy)
    out = sys.stdout
    # Most lines' answers are one shared object (no risk, in a language): its JSON line is written once and
    # kept, with the object, so an id is never reused while it is here
    seen: dict[int, tuple[object, str]] = {}
    for batch in _line_batches(sys.stdin.buffer.fileno()):
        texts = [raw.decode("utf-8", errors="replace").rstrip("\r") for raw in batch]
        # a line quoting someone else ("> ...", "<nick> ...") is judged on the writer's own words, as in a room
        # (``gateway.core.quotes``; one ">" test a line when nothing is quoted)
        own = [own_words(t) for t in texts]
        lines = []
        for text, mine, d in zip(texts, own, detector.detect_many(own)):
            quoted = mine is not text  # ``own_words`` returns the line itself when nothing is quoted
            known = None if quoted else seen.get(id(d))
            if known is not None and known[0] is d:
                lines.append(known[1])
                continue
            result = {"tier": d.tier, "remove": detector.would_remove(d), "rules": list(d.rules),
                      "lowered": list(d.lowered), "suppressed": list(d.suppressed)}
            if d.abuse:
                result["abuse"] = list(d.abuse)
            if quoted:  # lines quoting someone else were left out
                result["quoted"] = True
            if d.third_party:
                result["third_party"] = list(d.third_party)
            if d.score is not None:  # the policy uses the learned model: its score and thresholds
                scorer = detector.scored_by(d)
                result["model"] = {"score": round(d.score, 3), "concern": scorer.model_concern,
                                   "high": scorer.model_high if scorer.model_high <= 1 else None}
                if d.chat_score is not None:  # the chat-lines model read it too (``model.chat``)
                    result["model"]["chat"] = {"score": round(d.chat_score, 3),
                                               "concern": scorer.chat_concern}
            # whose rules gave the answer, every language whose rules judged the line (the policy's first,
            # then one that language identification added) and what identification said, if anything
            result["language"] = d.language
            result["languages"] = list(d.languages)
            if d.identified is not None:
                result["identified"] = d.identified
            lines.append(json.dumps(result))
            if not d.rules and not d.suppressed and not quoted:  # an answer that is likely shared
                if len(seen) >= 256:
                    seen.clear()
                seen[id(d)] = (d, lines[-1])
        out.write("\n".join(lines) + "\n")
        out.flush()
    return EXIT_OK


def _line_batches(fd: int, size: int = 1000):
    """Lines of ``fd`` in batches of what has arrived (at most ``size``): a pipe of 100,000 lines is
    scanned a thousand at a time (``detect_many``), a line typed at a terminal is answered at once."""
    pending = b""
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for i in range(0, len(lines), size):
            yield lines[i:i + size]
    if pending:
        yield [pending]


# -- run --------------------------------------------------------------------------------------

def cmd_run(args: argparse.Namespace) -> int:
    from adapters.contract import CredentialsRefused

    from .store.eventlog import EventLogError
    from .service import AdapterUnavailable, ModeratorsRoomExposed, Service

    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter() if args.log_format == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=getattr(logging, args.log_level), handlers=[handler])
    from .config.config_file import load_config

    try:
        service = Service(load_config(args.config, environ=os.environ), new_log=args.new_log)
    except (ConfigError, ConfigErrors) as exc:
        return _print_errors(exc)
    except (AdapterUnavailable, EventLogError, RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR

    import asyncio  # here, not at the top: the other commands (scan, check, eval) start faster without it

    async def main() -> None:
        # SIGTERM (systemctl stop, docker stop) stops cleanly: lanes cancelled, adapters disconnected,
        # the event log closed; anything unfinished resumes from the journal at the next start.
        # Ctrl-C (SIGINT) is asyncio.run's: it cancels this task the same way, and a second one ends at once.
        stopped_by = ["SIGINT"]

        def on_sigterm() -> None:
            stopped_by[0] = "SIGTERM"
            main_task.cancel()

        main_task = asyncio.current_task()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, on_sigterm)
        try:
            await service.start(timeout=None)  # joining and pinning in many rooms takes minutes
            await service.wait()
        except asyncio.CancelledError:
            logging.getLogger("gateway").info("stopping (%s)", stopped_by[0])
        finally:
            await service.stop()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    except CredentialsRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except ModeratorsRoomExposed as exc:  # a set-up to fix, like an invalid config
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line (``--log-format json``), for journald and log shippers. The same records
    as the text format, so the same rule holds: never message text; an exception appears as its class."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
               "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info and record.exc_info[0] is not None:
            out["exception"] = record.exc_info[0].__name__
        return json.dumps(out, ensure_ascii=False)

    converter = time.gmtime


# -- log --------------------------------------------------------------------------------------

def _open_log(args: argparse.Namespace):
    """(the event log of ``--db`` or ``--config``, the config or None), or an exit code after saying why."""
    from .store.eventlog import EventLog, EventLogError

    config = None
    try:
        if args.db:
            path = Path(args.db)
        else:
            from .config.config_file import load_config

            config = load_config(args.config)
            path = config.event_log
        if not path.exists():
            raise FileNotFoundError(f"no event log at {path}")
        return EventLog(path), config
    except (ConfigError, ConfigErrors) as exc:
        return _print_errors(exc), None
    except (FileNotFoundError, EventLogError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR, None


def cmd_log(args: argparse.Namespace) -> int:
    log, _ = _open_log(args)
    if isinstance(log, int):
        return log
    try:
        if args.log_command == "stats":
            print(json.dumps(log.stats(), indent=2))
        elif args.log_command == "export":
            n = log.export(args.format, sys.stdout)
            print(f"{n} rows exported", file=sys.stderr)
        elif args.log_command == "purge":
            seconds = parse_duration(args.older_than)
            if seconds is None:
                print(f"error: --older-than: expected a duration like 90d, got {args.older_than!r}",
                      file=sys.stderr)
                return EXIT_INVALID
            print(f"{log.purge(seconds)} rows older than {args.older_than} deleted")
        elif args.log_command == "forget":
            n, erased = log.forget(args.user, args.network)
            if erased:
                print(f"{n} rows about that person deleted and erased from the database files")
            else:
                print(f"{n} rows about that person deleted, but ERASURE IS PENDING: another process is reading "
                      f"the event log, so older copies stay in its write-ahead log until it stops reading. "
                      f"Run this command again later (or stop the gateway first) to finish the erasure.")
                return EXIT_ERROR
    finally:
        log.close()
    return EXIT_OK


def cmd_case(args: argparse.Namespace) -> int:
    """One case's summary and history from the event log, as ``!case ID`` shows it, with pseudonyms."""
    from .core.history import logged_case_text

    log, config = _open_log(args)
    if isinstance(log, int):
        return log
    case_id = args.case_id.strip().lower()
    try:
        row = log.case_row(case_id)
        events = log.case_events(case_id) if row is not None else []
    finally:
        log.close()
    if row is None:
        print(f"error: no case {args.case_id[:16]!r} in the event log {log.path}: a case id is the six letters and "
              f"digits an alert names (`gateway log export --db {log.path}` lists every case_id)", file=sys.stderr)
        return EXIT_ERROR
    names = {(b.network, b.room): b.display_name for b in config.rooms} if config else {}
    print(logged_case_text(row, events, room_name=names.get((row["network"], row["room"])), now=time.time()))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """One self-contained HTML file of the last ``--since`` of casework, from the event log."""
    from .ops.insight import cases_from_log
    from .ops.report import render_report

    seconds = parse_duration(args.since)
    if seconds is None:
        print(f"error: --since: expected a duration like 30d, got {args.since!r}", file=sys.stderr)
        return EXIT_INVALID
    log, config = _open_log(args)
    if isinstance(log, int):
        return log
    names = {(b.network, b.room): b.display_name for b in config.rooms} if config else {}
    until = time.time()
    since = until - seconds
    try:
        events = log.events_since(since)
        views = cases_from_log(log.cases_since(since), events)
        page = render_report(views, events, since=since, until=until, room_names=names, source=str(log.path))
    finally:
        log.close()
    out = Path(args.output)
    out.write_text(page, encoding="utf-8")
    print(f"{out}: {len(views)} case(s) from {time.strftime('%Y-%m-%d', time.gmtime(since))}; open it in a browser")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from .core.quotes import own_words
    from .detection.evaluate import evaluate, format_report
    from .detection import detector_for
    from .policy.loader import PolicyLoader

    try:
        policy = PolicyLoader().load(args.policy)
    except (ConfigError, ConfigErrors) as exc:
        return _print_errors(exc)
    try:
        report = evaluate(detector_for(policy), args.file, args.text, args.label, args.kind, args.binary,
                          read=own_words)  # quoted lines are someone else's words, as in a room
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    print(format_report(report, show_mistakes=args.mistakes))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(keep_running=not args.once, port=args.port, keep=args.keep, encrypted=args.encrypted,
                    language=args.language)


class _VersionAction(argparse.Action):
    """``--version``, looked up only when asked for (importlib.metadata costs every other command ~30 ms)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0,
                         help=help or "show program's version number and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog} {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("safeguarding-gateway")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="validate a config (and every policy it names) or one policy")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--config", help="gateway config file")
    g.add_argument("--policy", help="a policy name or path")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("init", help="write a starter gateway.yaml and a room policy, then check them")
    p.add_argument("--dir", default=".", help="where to write gateway.yaml and policies/ (default: here)")
    p.add_argument("--data-dir", metavar="DIR", help="where the gateway keeps what it writes: event log, pseudonym "
                                                     "key, crypto store, saved login (default: data/ beside "
                                                     "gateway.yaml; for the systemd unit: /var/lib/safeguarding-gateway)")
    p.add_argument("--room", action="append", metavar="ROOM",
                   help="a room to watch: !id or #alias:server (Matrix), #channel (IRC); repeatable")
    p.add_argument("--moderators-room", action="append", metavar="ROOM",
                   help="where alerts go (one per network if rooms are on both); repeatable")
    p.add_argument("--region", default="INTL", help="ISO 3166-1 code for the crisis lines, e.g. GB (default: INTL)")
    p.add_argument("--policy-name", default="room", help="name of the room policy to write (default: room)")
    p.add_argument("--matrix-homeserver", metavar="URL", help="e.g. https://matrix.example.org")
    p.add_argument("--matrix-user", metavar="USER_ID", help="the bot's account, e.g. @safety-bot:example.org")
    p.add_argument("--irc-host", metavar="HOST[:PORT]", help="e.g. irc.libera.chat")
    p.add_argument("--irc-nick", metavar="NICK")
    p.add_argument("--irc-account", metavar="ACCOUNT", help="services account for SASL (recommended)")
    p.add_argument("--no-irc-tls", action="store_true", help="plain-text IRC (default: TLS)")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("scan", help="dry-run detection on stdin, one message per line")
    p.add_argument("--policy", default="default", help="policy name or path (default: shipped default)")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("eval", help="precision, recall and confusion of a policy on a labelled CSV")
    p.add_argument("file", metavar="FILE.csv")
    p.add_argument("--text", default="text", help="column with the message text (default: text)")
    p.add_argument("--label", default="label", help="column with none, concern, high or imminent (default: label)")
    p.add_argument("--kind", default="kind", help="optional column: ordinary, hard_negative, risk, abuse")
    p.add_argument("--policy", default="default", help="policy name or path (default: shipped default)")
    p.add_argument("--mistakes", action="store_true", help="list the CSV lines detected wrongly (not their text)")
    p.add_argument("--binary", metavar="POSITIVE", help="labels are yes/no: this value means at risk (any tier)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("run", help="run the gateway")
    p.add_argument("--config", required=True)
    p.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                   help="application log level (logs never contain message text)")
    p.add_argument("--log-format", default="text", choices=("text", "json"),
                   help="json: one object per line (ts, level, logger, message) for journald or a log shipper")
    p.add_argument("--new-log", action="store_true",
                   help="the event log's key file is lost: keep the old database aside and start a new log")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("status", help="devices, crypto stores and unreadable messages, from a config's files")
    p.add_argument("--config", required=True)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("demo", help="play the at-risk flow on a throwaway local Synapse and print a timeline")
    p.add_argument("--once", action="store_true", help="exit after the scenario instead of staying up")
    p.add_argument("--port", type=int, default=None, help="homeserver port (default: 8008 if free)")
    p.add_argument("--keep", metavar="DIR", help="keep the homeserver, config and event log in DIR after exit")
    p.add_argument("--encrypted", action="store_true",
                   help="end-to-end encrypted rooms, with encrypting clients as the people")
    p.add_argument("--language", choices=("en", "de", "fr", "es"), default="en",
                   help="play the scenario in a room in this language (default: en)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("report", help="an HTML report of the casework (charts and tables, no text) from the event log")
    w = p.add_mutually_exclusive_group(required=True)
    w.add_argument("--config", help="gateway config file (its event log, and room names)")
    w.add_argument("--db", help="path to the event-log database")
    p.add_argument("--since", default="30d", help="how far back, e.g. 7d or 90d (default: 30d)")
    p.add_argument("-o", "--output", default="report.html", help="the HTML file to write (default: report.html)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("case", help="one case's history from the event log, as !case ID shows it (pseudonyms)")
    p.add_argument("case_id", metavar="ID", help="the case id an alert names, e.g. abc234")
    w = p.add_mutually_exclusive_group(required=True)
    w.add_argument("--config", help="gateway config file (its event log, and room names)")
    w.add_argument("--db", help="path to the event-log database")
    p.set_defaults(func=cmd_case)

    p = sub.add_parser("log", help="the transcript-free event log")
    logsub = p.add_subparsers(dest="log_command", required=True)
    where = argparse.ArgumentParser(add_help=False)
    w = where.add_mutually_exclusive_group(required=True)
    w.add_argument("--config", help="gateway config file (its event_log)")
    w.add_argument("--db", help="path to the event-log database")
    logsub.add_parser("stats", parents=[where], help="counts by kind, tier and status")
    e = logsub.add_parser("export", parents=[where], help="all events as JSON lines or CSV on stdout")
    e.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    q = logsub.add_parser("purge", parents=[where], help="delete rows older than a duration")
    q.add_argument("--older-than", required=True, help="e.g. 90d")
    f = logsub.add_parser("forget", parents=[where], help="delete every row about one person")
    f.add_argument("user", metavar="USER", help="the person's network id, e.g. @alice:example.org or a nick")
    f.add_argument("--network", help="only on this network (default: every network in the log)")
    p.set_defaults(func=cmd_log)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader went away (`gateway scan | head`): nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
