// The customer call page: one button calls the front desk, the same button
// hangs up. The microphone goes through an AudioWorklet (16 kHz s16le,
// 20 ms chunks) to WS /ws/call; the system's words come back as events,
// shown large and spoken (zh-CN, slowly) for elderly callers.
//
// Who calls is decided by the bank, not by this page: the bank's app opens
// it with ?token= (a short-lived call token for one customer), which is
// taken out of the address bar at once. On a demo server (serve --demo)
// a page without a token asks the server for one for the demo customer.
(function () {
  "use strict";

  const STATE_TEXT = {
    idle: "准备好了",
    connecting: "正在接通…",
    listening: "正在听…",
    thinking: "正在想…",
    handed: "已转人工",
    busy: "柜员都在忙",
    callback: "柜员会给您回电",
    error: "出了点问题",
  };
  const SPEECH_RATE = 0.8;
  const DIALECT_RATE = 0.6; // the one sentence said to a caller the recogniser cannot read
  const VOICE_RMS = 0.02; // a chunk louder than this counts as the caller speaking
  const THINKING_AFTER_MS = 900; // silence after speech before we say 正在想…

  const button = document.getElementById("call");
  const stateEl = document.getElementById("state");
  const systemEl = document.getElementById("system");
  const heardEl = document.getElementById("heard");
  const errorEl = document.getElementById("error");
  const callbackButton = document.getElementById("callback");

  const params = new URLSearchParams(window.location.search);
  const appToken = params.get("token");
  if (appToken) {
    // Keep the token out of history, bookmarks and screenshots of the address bar.
    params.delete("token");
    const rest = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
  }
  let call = null; // the call in progress, see start()

  function setState(name) {
    stateEl.textContent = STATE_TEXT[name];
    stateEl.className = "state state-" + name;
    stateEl.dataset.state = name;
  }

  function setButton(inCall) {
    button.textContent = inCall ? "挂断" : "呼叫";
    button.setAttribute("aria-pressed", inCall ? "true" : "false");
    button.setAttribute(
      "aria-label",
      inCall ? "挂断：按一下结束通话" : "呼叫：按一下开始通话，再按一下挂断"
    );
  }

  function showError(text, detail) {
    errorEl.textContent = text;
    errorEl.hidden = false;
    if (detail) {
      errorEl.dataset.detail = detail;
      console.warn("front desk:", detail);
    }
  }

  function clearError() {
    errorEl.hidden = true;
    errorEl.textContent = "";
    delete errorEl.dataset.detail;
  }

  // ---- speaking -------------------------------------------------------
  // While the page speaks, silence goes to the server instead of the
  // microphone: echo cancellation is off (it distorts speech recognition),
  // so a phone's loudspeaker would otherwise be heard as the caller.

  function pickVoice() {
    const voices = window.speechSynthesis ? window.speechSynthesis.getVoices() : [];
    const norm = (v) => v.lang.replace("_", "-").toLowerCase();
    return (
      voices.find((v) => norm(v) === "zh-cn") ||
      voices.find((v) => norm(v).startsWith("zh")) ||
      null
    );
  }

  function say(text, rate) {
    const speed = rate || SPEECH_RATE;
    systemEl.textContent = text;
    if (!window.speechSynthesis || !text) return;
    const synth = window.speechSynthesis;
    synth.cancel();
    const u = new SpeechSynthesisUtterance(text);
    u.lang = "zh-CN";
    u.rate = speed;
    const voice = pickVoice();
    if (voice) u.voice = voice;
    const c = call;
    if (c) c.speaking = true;
    let started = false;
    const done = () => {
      if (c) c.speaking = false;
      clearTimeout(noEngine);
      clearTimeout(tooLong);
    };
    // No speech engine (some browsers, headless test runs) never starts:
    // do not keep the microphone muted waiting for it.
    const noEngine = setTimeout(() => { if (!started) done(); }, 1500);
    const tooLong = setTimeout(done, 3000 + (text.length * 400) / speed);
    u.onstart = () => { started = true; };
    u.onend = done;
    u.onerror = done;
    synth.speak(u);
  }

  // ---- the call -------------------------------------------------------

  function callUrl() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + "/ws/call";
  }

  /** The call token: the app's, or (demo server only) a fresh one for the demo customer. */
  async function callToken() {
    if (appToken) return appToken;
    const body = {};
    const scenario = params.get("scenario");
    if (scenario) body.scenario = scenario;
    const r = await fetch("/api/demo/call-token", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    if (!r.ok) {
      const e = new Error("no call token (" + r.status + ")");
      e.name = r.status === 404 ? "NoTokenError" : "TokenError";
      throw e;
    }
    return (await r.json()).token;
  }

  function micError(err) {
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      return "没有打开麦克风：请在浏览器的设置里允许本网页使用麦克风，然后再按“呼叫”。";
    }
    if (name === "NotFoundError" || name === "OverconstrainedError") {
      return "没有找到麦克风：请检查手机或电脑的麦克风，然后再按“呼叫”。";
    }
    if (name === "NotReadableError") {
      return "麦克风正被别的程序使用：请关掉它，然后再按“呼叫”。";
    }
    return "麦克风打不开，请稍后再试，或拨打柜台电话。";
  }

  async function openMicrophone() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      const e = new Error("getUserMedia unavailable (the page needs https)");
      e.name = "SecurityError";
      throw e;
    }
    return navigator.mediaDevices.getUserMedia({
      audio: {
        channelCount: 1,
        // Off: these filters change levels and spectra that the speech
        // recogniser was measured without.
        echoCancellation: false,
        noiseSuppression: false,
        autoGainControl: false,
      },
    });
  }

  async function start() {
    clearError();
    heardEl.textContent = "";
    button.disabled = true;
    setState("connecting");
    // Speaking needs a user gesture on phones: unlock it inside the click.
    if (window.speechSynthesis) window.speechSynthesis.cancel();
    const c = { ws: null, ctx: null, stream: null, speaking: false, ended: false,
                handed: false, heardVoice: false, lastVoiceAt: 0, timer: null };
    call = c;
    try {
      // Created inside the click, before any await, so the browser's
      // autoplay rule (a user gesture starts audio) lets it run.
      c.ctx = new AudioContext();
    } catch (err) {
      c.ctx = null;
    }
    // The token first: a page opened outside the bank's app says so before asking for the microphone.
    let token;
    try {
      token = await callToken();
    } catch (err) {
      stopAudio(c);
      call = null;
      button.disabled = false;
      setState("error");
      showError(
        err.name === "NoTokenError"
          ? "请从手机银行里打开这个页面，再按“呼叫”。"
          : "连不上服务台，请稍后再按“呼叫”。",
        String(err)
      );
      return;
    }
    try {
      c.stream = await openMicrophone();
    } catch (err) {
      call = null;
      button.disabled = false;
      setState("error");
      showError(micError(err), err && (err.name + ": " + err.message));
      return;
    }
    try {
      if (!c.ctx) throw new Error("AudioContext unavailable");
      await c.ctx.audioWorklet.addModule("/static/pcm-worklet.js");
      const source = c.ctx.createMediaStreamSource(c.stream);
      const node = new AudioWorkletNode(c.ctx, "pcm-downsampler", {
        processorOptions: { targetRate: 16000, chunkMs: 20 },
      });
      source.connect(node);
      node.connect(c.ctx.destination); // keeps the node pulled; it outputs silence
      node.port.onmessage = (msg) => onChunk(c, msg.data);
      if (c.ctx.state === "suspended") await c.ctx.resume();
    } catch (err) {
      cleanup(c);
      call = null;
      button.disabled = false;
      setState("error");
      showError("这个浏览器不能录音，请换一个浏览器（例如最新的 Chrome）。", String(err));
      return;
    }
    const ws = new WebSocket(callUrl());
    ws.binaryType = "arraybuffer";
    c.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ token: token }));
      button.disabled = false;
      setButton(true);
      setState("listening");
    };
    ws.onmessage = (msg) => {
      if (typeof msg.data === "string") onEvent(c, JSON.parse(msg.data));
    };
    ws.onerror = () => {
      if (!c.handed && !c.ended) showError("连不上服务台，请稍后再按“呼叫”。", "WebSocket error");
    };
    ws.onclose = () =>
      finish(c, c.handed ? "handed" : c.busy ? "busy" : c.ended ? "idle" : "dropped");
    c.timer = setInterval(() => {
      const st = stateEl.dataset.state;
      if (st === "listening" && c.heardVoice && Date.now() - c.lastVoiceAt > THINKING_AFTER_MS) {
        setState("thinking");
      }
    }, 200);
  }

  function onChunk(c, data) {
    if (c.ended || !c.ws || c.ws.readyState !== WebSocket.OPEN) return;
    if (c.speaking) {
      c.ws.send(new ArrayBuffer(data.pcm.byteLength)); // silence, same timing
      return;
    }
    if (data.rms > VOICE_RMS) {
      c.heardVoice = true;
      c.lastVoiceAt = Date.now();
      if (stateEl.dataset.state === "thinking") setState("listening");
    }
    c.ws.send(data.pcm);
  }

  function onEvent(c, ev) {
    switch (ev.type) {
      case "transcript":
        heardEl.textContent = ev.text ? "您说：" + ev.text : "";
        setState("thinking");
        break;
      case "prompt":
      case "confirm":
        c.heardVoice = false;
        setState("listening");
        say(ev.text);
        break;
      case "busy":
        // Every line is taken: say the wait and offer a callback (issue 10).
        c.busy = true;
        stopAudio(c);
        setState("busy");
        say(ev.text || "现在柜员都在忙，请稍后再打。");
        if (ev.callback && ev.callback.send) {
          callbackButton.hidden = false;
          callbackButton.onclick = () => {
            callbackButton.hidden = true;
            if (c.ws && c.ws.readyState === WebSocket.OPEN) {
              c.ws.send(JSON.stringify(ev.callback.send));
              c.callbackAsked = true;
              setState("callback");
              say("好的，柜员会尽快给您回电。");
            }
          };
        }
        break;
      case "case":
        c.handed = true;
        setState("handed");
        // A dialect speaker (issue 9) hears the hand-over more slowly still.
        say(ev.text || "已经为您转到人工柜员，请稍等。", ev.reason === "dialect_speech" ? DIALECT_RATE : 0);
        stopAudio(c);
        break;
      case "error":
        if (ev.code === "unauthorized") {
          showError("通话凭证过期了：请从手机银行重新打开这个页面。", ev.message);
        } else {
          showError("服务台出了点问题，请稍后再按“呼叫”。", ev.message);
        }
        break;
      default:
        break;
    }
  }

  function stopAudio(c) {
    if (c.timer) clearInterval(c.timer);
    c.timer = null;
    if (c.stream) c.stream.getTracks().forEach((t) => t.stop());
    if (c.ctx && c.ctx.state !== "closed") c.ctx.close();
  }

  function cleanup(c) {
    stopAudio(c);
    if (c.ws && c.ws.readyState <= WebSocket.OPEN) c.ws.close(1000, "hang up");
  }

  function finish(c, how) {
    if (call !== c) return;
    call = null;
    c.ended = true;
    cleanup(c);
    button.disabled = false;
    setButton(false);
    if (how === "busy") {
      callbackButton.hidden = true;
      setState(c.callbackAsked ? "callback" : "idle");
    } else if (how === "handed") {
      setState("handed");
    } else if (how === "dropped") {
      setState("idle");
      if (errorEl.hidden) showError("通话断开了。需要的话，请再按“呼叫”。");
    } else {
      setState("idle");
      systemEl.textContent = "已挂断。";
    }
  }

  function hangUp() {
    const c = call;
    if (!c) return;
    c.ended = true;
    if (window.speechSynthesis) window.speechSynthesis.cancel();
    finish(c, "idle");
  }

  button.addEventListener("click", () => {
    if (call) hangUp();
    else start();
  });
  setState("idle");
  setButton(false);
})();
