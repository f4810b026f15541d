// AudioWorklet: microphone audio (the context's rate, often 44.1 or 48 kHz)
// -> 16 kHz mono signed 16-bit PCM in 20 ms chunks, posted to the page,
// which sends them over the call's WebSocket (contract: WS /ws/call).
//
// Downsampling low-pass filters first (windowed-sinc FIR, cut-off just
// under 8 kHz) so higher frequencies do not fold back into the speech band,
// then reads the filtered signal at the output instants by linear
// interpolation (the ratio is rarely an integer: 44100 / 16000 = 2.75625).

const TAPS = 31;

function lowPass(ratio) {
  // Cut-off as a fraction of the input rate: 0.45 of the output rate.
  const fc = 0.45 / ratio;
  const h = new Float32Array(TAPS);
  const mid = (TAPS - 1) / 2;
  let sum = 0;
  for (let i = 0; i < TAPS; i++) {
    const n = i - mid;
    const sinc = n === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * n) / (Math.PI * n);
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (TAPS - 1));
    h[i] = sinc * hann;
    sum += h[i];
  }
  for (let i = 0; i < TAPS; i++) h[i] /= sum; // unity gain at DC
  return h;
}

class PcmDownsampler extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    const target = opts.targetRate || 16000;
    const chunkMs = opts.chunkMs || 20;
    this.ratio = sampleRate / target;
    this.filter = this.ratio > 1 ? lowPass(this.ratio) : null;
    this.ring = new Float32Array(TAPS);
    this.ringPos = 0;
    this.prev = 0; // the previous filtered sample
    this.t = 1; // where the next output falls, between prev (0) and current (1)
    this.size = Math.round((target * chunkMs) / 1000); // 320 samples
    this.chunk = new Int16Array(this.size);
    this.fill = 0;
    this.energy = 0;
  }

  filtered(x) {
    if (!this.filter) return x;
    this.ring[this.ringPos] = x;
    this.ringPos = (this.ringPos + 1) % TAPS;
    let y = 0;
    let j = this.ringPos;
    for (let i = 0; i < TAPS; i++) {
      y += this.filter[i] * this.ring[j];
      j = j + 1 === TAPS ? 0 : j + 1;
    }
    return y;
  }

  emit(v) {
    const s = Math.max(-1, Math.min(1, v));
    this.chunk[this.fill++] = s < 0 ? Math.round(s * 32768) : Math.round(s * 32767);
    this.energy += s * s;
    if (this.fill === this.size) {
      const pcm = this.chunk.buffer;
      const rms = Math.sqrt(this.energy / this.fill);
      // Transferred, not copied: the old array is detached afterwards.
      this.port.postMessage({ pcm, rms }, [pcm]);
      this.chunk = new Int16Array(this.size);
      this.fill = 0;
      this.energy = 0;
    }
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const channel = input[0]; // mono: the first channel is the microphone
    for (let i = 0; i < channel.length; i++) {
      const y = this.filtered(channel[i]);
      while (this.t <= 1) {
        this.emit(this.prev + (y - this.prev) * this.t);
        this.t += this.ratio;
      }
      this.t -= 1;
      this.prev = y;
    }
    return true;
  }
}

registerProcessor("pcm-downsampler", PcmDownsampler);
