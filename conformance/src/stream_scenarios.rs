//! Exec, attach and port-forward scenarios: every recording of
//! `fixtures/recorded-streams/` and the faults derived from them, driven
//! through the core's handshake and sessions.

use kubewire::stream::{DEFAULT_MAX_MESSAGE, Exit};
use kubewire::{AttachParams, Error, ExecParams, Kind};

use crate::scenario::{Ctx, Scenario};
use crate::stream_client::{Action, ExecRun, run_exec, run_port_forward, upgrade};

/// What kubewire offers for exec and attach.
const EXEC: &[&str] = &["v5.channel.k8s.io", "v4.channel.k8s.io"];
/// What kubewire offers for port-forward.
const FORWARD: &[&str] = &["v4.channel.k8s.io"];

macro_rules! scenarios {
    ($($name:literal [$($fixture:literal),*] => $run:ident,)*) => {
        /// Every stream scenario.
        pub fn all() -> Vec<Scenario> {
            vec![$(Scenario { name: $name, fixtures: &[$($fixture),*], run: $run },)*]
        }
    };
}

scenarios! {
    "exec-stdout-stderr" ["exec-stdout-stderr"] => stdout_and_stderr,
    "exec-exit-code" ["exec-exit-code"] => exit_code,
    "exec-stdin-close" ["exec-stdin-close"] => stdin_close,
    "exec-stdin-left-open" ["exec-stdin-left-open"] => stdin_left_open,
    "exec-tty-resize" ["exec-tty-resize"] => tty_resize,
    "exec-large-output" ["exec-large-output"] => large_output,
    "exec-over-the-message-bound" ["exec-over-the-bound"] => over_the_bound,
    "exec-command-not-found" ["exec-command-not-found"] => command_not_found,
    "attach-echo" ["attach-echo"] => attach_echo,
    "exec-v4-only" ["exec-v4-only"] => v4_only,
    "exec-base64" ["exec-base64"] => base64,
    "exec-no-protocol" ["exec-no-protocol"] => no_protocol,
    "exec-no-protocol-exit-code" ["exec-no-protocol-exit-code"] => no_protocol_exit_code,
    "exec-refusals" ["exec-unsupported-protocol", "exec-pod-not-found", "exec-container-not-found",
        "exec-pod-not-scheduled", "exec-kubelet-down", "exec-no-streams"] => exec_refusals,
    "exec-no-upgrade" ["exec-no-upgrade"] => no_upgrade,
    "portforward-echo" ["portforward-echo"] => forward_echo,
    "portforward-refused" ["portforward-refused"] => forward_refused,
    "portforward-base64" ["portforward-base64"] => forward_base64,
    "portforward-refusals" ["portforward-no-ports", "portforward-portforward-protocol",
        "portforward-pod-not-found"] => forward_refusals,
    "portforward-spdy-tunnel" ["portforward-spdy-tunnel"] => spdy_tunnel,
    "exec-fault-cut-mid-frame" ["exec-fault-cut-mid-frame"] => fault_cut_mid_frame,
    "exec-fault-close-without-status" ["exec-fault-close-without-status"] => fault_close_without_status,
    "exec-fault-ping-fragments" ["exec-fault-ping-fragments"] => fault_ping_fragments,
    "exec-fault-bad-accept" ["exec-fault-bad-accept"] => fault_bad_accept,
    "portforward-fault-frames-after-close" ["portforward-fault-frames-after-close"] => fault_frames_after_close,
}

fn exec_params(command: &[&str], container: Option<&str>) -> ExecParams {
    let mut params = ExecParams::command(command.iter().copied());
    params.container = container.map(str::to_string);
    params
}

fn exec(
    cx: &mut Ctx<'_>,
    pod: &str,
    params: &ExecParams,
    offer: &[&str],
    actions: &[Action],
) -> ExecRun {
    exec_bounded(cx, pod, params, offer, actions, DEFAULT_MAX_MESSAGE)
}

fn exec_bounded(
    cx: &mut Ctx<'_>,
    pod: &str,
    params: &ExecParams,
    offer: &[&str],
    actions: &[Action],
    bound: usize,
) -> ExecRun {
    let pods = cx.endpoint(Kind::Pod, Some("demo"));
    let up = upgrade(cx, pods.exec(pod, params), offer).unwrap_or_else(|e| panic!("upgrade: {e}"));
    run_exec(up, actions, bound)
}

/// `out` on stdout and `err` on stderr, as `echo out; echo err >&2` prints.
fn out_and_err(run: &ExecRun) {
    assert_eq!(
        (&run.stdout[..], &run.stderr[..]),
        (&b"out\n"[..], &b"err\n"[..])
    );
}

fn ok(run: &ExecRun) {
    assert!(run.error.is_none(), "{:?}", run.error);
}

/// `sh -c script` in container `app` (the recordings' commands).
pub(crate) fn sh(script: &str) -> ExecParams {
    exec_params(&["sh", "-c", script], Some("app"))
}

fn stdout_and_stderr(cx: &mut Ctx<'_>) {
    let run = exec(cx, "web-0", &sh("echo out; echo err >&2"), EXEC, &[]);
    ok(&run);
    out_and_err(&run);
    assert_eq!(run.exit, Some(Exit::Success));
}

fn exit_code(cx: &mut Ctx<'_>) {
    let run = exec(cx, "web-0", &sh("exit 3"), EXEC, &[]);
    ok(&run);
    let exit = run.exit.expect("an exit");
    assert_eq!(exit.code(), Some(3));
    let err = exit.into_result().unwrap_err();
    assert!(matches!(err, Error::Exec { code: Some(3), .. }), "{err}");
    assert!(
        err.to_string().starts_with("command exited with code 3: "),
        "{err}"
    );
}

fn stdin_close(cx: &mut Ctx<'_>) {
    let mut params = exec_params(&["cat"], Some("app"));
    params.stdin = true;
    params.stderr = false;
    let actions = [
        Action::Stdin(b"hello\n"),
        Action::Stdin(b"world\n"),
        Action::CloseStdin,
    ];
    let run = exec(cx, "web-0", &params, EXEC, &actions);
    ok(&run);
    assert_eq!(run.stdout, b"hello\nworld\n");
    assert_eq!(run.exit, Some(Exit::Success));
}

fn stdin_left_open(cx: &mut Ctx<'_>) {
    let mut params = exec_params(&["head", "-n", "1"], Some("app"));
    params.stdin = true;
    params.stderr = false;
    let run = exec(cx, "web-0", &params, EXEC, &[Action::Stdin(b"one\ntwo\n")]);
    ok(&run);
    assert_eq!(run.stdout, b"one\n");
    assert_eq!(run.exit, Some(Exit::Success));
}

fn tty_resize(cx: &mut Ctx<'_>) {
    let mut params = sh("read a; stty size; read b; stty size");
    params.stdin = true;
    params.tty = true; // no stderr with a terminal
    let actions = [
        Action::Resize(80, 24),
        Action::Stdin(b"a\r"),
        Action::Resize(100, 30),
        Action::Stdin(b"b\r"),
    ];
    let run = exec(cx, "web-0", &params, EXEC, &actions);
    ok(&run);
    assert_eq!(run.stdout, b"a\r\n24 80\r\nb\r\n30 100\r\n");
    assert!(run.stderr.is_empty());
}

fn large_output(cx: &mut Ctx<'_>) {
    let mut params = exec_params(&["seq", "1", "40000"], Some("app"));
    params.stderr = false;
    let run = exec(cx, "web-0", &params, EXEC, &[]);
    ok(&run);
    let expected: String = (1..=40000).map(|n| format!("{n}\n")).collect();
    assert_eq!(run.stdout.len(), 228_894);
    assert!(
        run.stdout == expected.as_bytes(),
        "seq's output, byte for byte"
    );
    assert_eq!(
        run.stdout_messages, 10,
        "the empty opening message is not output"
    );
}

fn over_the_bound(cx: &mut Ctx<'_>) {
    let mut params = exec_params(&["seq", "1", "40000"], Some("app"));
    params.stderr = false;
    let run = exec_bounded(cx, "web-0", &params, EXEC, &[], 16 * 1024);
    let err = run
        .error
        .expect("a message over the bound ends the session");
    assert!(err.to_string().contains("the bound is 16384"), "{err}");
}

fn command_not_found(cx: &mut Ctx<'_>) {
    let run = exec(
        cx,
        "web-0",
        &exec_params(&["no-such-command"], Some("app")),
        EXEC,
        &[],
    );
    ok(&run);
    let err = run.exit.expect("an exit").into_result().unwrap_err();
    let Error::Exec {
        code,
        reason,
        message,
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((*code, reason.as_str()), (None, "InternalError"));
    assert!(message.contains("no-such-command"), "{message}");
}

fn attach_echo(cx: &mut Ctx<'_>) {
    let pods = cx.endpoint(Kind::Pod, Some("demo"));
    let mut params = AttachParams::default();
    params.container = Some("main".into());
    params.stdin = true;
    let up = upgrade(cx, pods.attach("shell", &params), EXEC).expect("upgrade");
    let run = run_exec(
        up,
        &[Action::Stdin(b"hi\n"), Action::CloseStdin],
        DEFAULT_MAX_MESSAGE,
    );
    ok(&run);
    assert_eq!(run.stdout, b"attached\ngot: hi\nbye\n");
    assert_eq!(run.exit, Some(Exit::Success));
}

fn v4_only(cx: &mut Ctx<'_>) {
    let run = exec(
        cx,
        "web-0",
        &sh("echo out; echo err >&2; exit 2"),
        &["v4.channel.k8s.io"],
        &[],
    );
    ok(&run);
    out_and_err(&run);
    let exit = run.exit.expect("an exit");
    assert_eq!(exit.code(), Some(2));
    let Exit::Code { message, .. } = exit else {
        unreachable!()
    };
    assert!(
        message.contains("exit code 2"),
        "v4 passes the runtime's words: {message}"
    );
}

fn base64(cx: &mut Ctx<'_>) {
    let run = exec(
        cx,
        "web-0",
        &sh("echo out; echo err >&2"),
        &["v4.base64.channel.k8s.io"],
        &[],
    );
    ok(&run);
    out_and_err(&run);
    assert_eq!(run.exit, Some(Exit::Success));
}

fn no_protocol(cx: &mut Ctx<'_>) {
    let mut params = sh("echo out");
    params.stderr = false;
    let run = exec(cx, "web-0", &params, &[], &[]);
    ok(&run);
    assert_eq!(run.stdout, b"out\n");
    assert_eq!(
        run.exit,
        Some(Exit::Success),
        "no status on the error stream is success"
    );
}

fn no_protocol_exit_code(cx: &mut Ctx<'_>) {
    let mut params = sh("echo out; exit 3");
    params.stderr = false;
    let run = exec(cx, "web-0", &params, &[], &[]);
    ok(&run);
    assert_eq!(
        run.exit.and_then(|e| e.code()),
        Some(3),
        "plain text names the code"
    );
}

fn refused(cx: &mut Ctx<'_>, pod: &str, params: &ExecParams, offer: &[&str]) -> Error {
    let pods = cx.endpoint(Kind::Pod, Some("demo"));
    upgrade(cx, pods.exec(pod, params), offer).expect_err("refused before the upgrade")
}

fn exec_refusals(cx: &mut Ctx<'_>) {
    let mut params = sh("echo out");
    params.stderr = false;
    let err = refused(cx, "web-0", &params, &["v6.channel.k8s.io"]);
    assert_eq!(err.http_status(), Some(403), "{err}");

    let err = refused(cx, "nope", &sh("echo out"), EXEC);
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    assert!(err.to_string().contains("pods \"nope\" not found"), "{err}");

    let err = refused(
        cx,
        "web-0",
        &exec_params(&["sh", "-c", "echo out"], Some("nope")),
        EXEC,
    );
    assert_eq!(err.http_status(), Some(400));
    assert!(
        err.to_string()
            .contains("container nope is not valid for pod web-0"),
        "{err}"
    );

    let err = refused(
        cx,
        "pending",
        &exec_params(&["sh", "-c", "echo out"], None),
        EXEC,
    );
    assert!(
        err.to_string()
            .contains("pod pending does not have a host assigned"),
        "{err}"
    );

    let err = refused(cx, "web-down", &sh("echo out"), EXEC);
    assert_eq!(err.http_status(), Some(500));
    assert!(err.to_string().contains("error dialing backend"), "{err}");

    let mut params = exec_params(&["sh"], Some("app"));
    params.stdout = false;
    params.stderr = false;
    let err = refused(cx, "web-0", &params, EXEC);
    assert_eq!(err.http_status(), Some(400));
    assert!(
        err.to_string()
            .contains("you must specify at least 1 of stdin, stdout, stderr"),
        "{err}"
    );
}

fn no_upgrade(cx: &mut Ctx<'_>) {
    // The same request sent as a plain GET: the apiserver insists on the upgrade.
    let pods = cx.endpoint(Kind::Pod, Some("demo"));
    let err = cx.status(pods.exec("web-0", &sh("echo out"))).unwrap_err();
    assert_eq!(err.http_status(), Some(400));
    assert!(
        err.to_string().contains("Upgrade request required"),
        "{err}"
    );
}

fn forward(
    cx: &mut Ctx<'_>,
    ports: &[u16],
    offer: &[&str],
    send: &[&[u8]],
) -> crate::stream_client::ForwardRun {
    let pods = cx.endpoint(Kind::Pod, Some("demo"));
    let up = upgrade(cx, pods.port_forward("web-0", ports), offer).expect("upgrade");
    run_port_forward(up, ports, send)
}

fn forward_echo(cx: &mut Ctx<'_>) {
    let run = forward(cx, &[18080], FORWARD, &[b"ping\n", b"second\n"]);
    assert!(run.error.is_none(), "{:?}", run.error);
    assert_eq!(run.data[0], b"ping\nsecond\n");
    assert_eq!(run.errors[0], "");
}

fn forward_refused(cx: &mut Ctx<'_>) {
    let run = forward(cx, &[1], FORWARD, &[]);
    assert!(run.error.is_none(), "{:?}", run.error);
    assert!(run.data[0].is_empty());
    assert!(
        run.errors[0].starts_with("error forwarding port 1 to pod demo_web-0, uid : dial tcp4"),
        "{}",
        run.errors[0]
    );
}

fn forward_base64(cx: &mut Ctx<'_>) {
    let run = forward(cx, &[18080], &["v4.base64.channel.k8s.io"], &[b"ping\n"]);
    assert!(run.error.is_none(), "{:?}", run.error);
    assert_eq!(run.data[0], b"ping\n");
}

fn forward_refusals(cx: &mut Ctx<'_>) {
    let pods = cx.endpoint(Kind::Pod, Some("demo"));
    let err = upgrade(cx, pods.port_forward("web-0", &[]), FORWARD).unwrap_err();
    assert!(
        err.to_string()
            .contains("query parameter \"port\" is required"),
        "{err}"
    );
    let err = upgrade(
        cx,
        pods.port_forward("web-0", &[18080]),
        &["portforward.k8s.io"],
    )
    .unwrap_err();
    assert_eq!(err.http_status(), Some(403));
    let err = upgrade(cx, pods.port_forward("nope", &[18080]), FORWARD).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
}

fn spdy_tunnel(cx: &mut Ctx<'_>) {
    // The handshake succeeds with a protocol kubewire does not speak: the
    // session refuses it by name (the connection is closed).
    let pods = cx.endpoint(Kind::Pod, Some("demo"));
    let up = upgrade(
        cx,
        pods.port_forward("web-0", &[]),
        &["SPDY/3.1+portforward.k8s.io"],
    )
    .expect("upgrade");
    assert_eq!(
        up.upgraded.protocol.as_deref(),
        Some("SPDY/3.1+portforward.k8s.io")
    );
    let run = crate::stream_client::close_raw(up);
    assert!(run.is_ok(), "{run:?}");
}

fn fault_cut_mid_frame(cx: &mut Ctx<'_>) {
    let run = exec(cx, "web-0", &sh("echo out; echo err >&2"), EXEC, &[]);
    assert_eq!(run.stdout, b"out\n", "what came before the cut is kept");
    let err = run.error.expect("a cut is an error");
    assert!(err.to_string().contains("middle of a frame"), "{err}");
}

fn fault_close_without_status(cx: &mut Ctx<'_>) {
    let run = exec(cx, "web-0", &sh("echo out; echo err >&2"), EXEC, &[]);
    assert_eq!(run.stdout, b"out\n");
    let err = run.error.expect("no status is an error");
    assert!(err.to_string().contains("without an exit status"), "{err}");
    assert_eq!(run.exit, None);
}

fn fault_ping_fragments(cx: &mut Ctx<'_>) {
    let run = exec(cx, "web-0", &sh("echo out; echo err >&2"), EXEC, &[]);
    ok(&run);
    out_and_err(&run);
    assert_eq!(run.exit, Some(Exit::Success));
}

fn fault_bad_accept(cx: &mut Ctx<'_>) {
    let err = refused(cx, "web-0", &sh("echo out; echo err >&2"), EXEC);
    assert!(err.to_string().contains("does not answer the key"), "{err}");
}

fn fault_frames_after_close(cx: &mut Ctx<'_>) {
    let run = forward(cx, &[18080], FORWARD, &[b"ping\n"]);
    assert!(run.error.is_none(), "{:?}", run.error);
    assert_eq!(run.data[0], b"ping\n");
}
