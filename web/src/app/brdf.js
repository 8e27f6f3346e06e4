// The BRDF lookup table of CesiumJS's physically based lighting, computed here instead of on
// the GPU. CesiumJS renders it (256 × 256 texels, 1,024 samples each) the first time a model
// is drawn: a fraction of a second on a GPU, but 3 – 6 s when WebGL runs on the CPU
// (SwiftShader), and the city's buildings wait for it. The same integral (split-sum
// approximation: GGX importance sampling, Smith visibility, Schlick Fresnel; Cesium's
// BrdfLutGeneratorFS) at 32 × 32 texels with 512 samples takes a few milliseconds in
// JavaScript and is sampled with linear filtering.

import {
  BrdfLutGenerator,
  PixelDatatype,
  PixelFormat,
  Sampler,
  Texture,
  TextureMagnificationFilter,
  TextureMinificationFilter,
  TextureWrap,
} from "@cesium/engine";

export const LUT_SIZE = 32;
const SAMPLES = 512;

/** The van der Corput radical inverse of i in base 2. */
function radicalInverse(i) {
  let value = 0;
  let inv = 0.5;
  for (let n = i; n > 0; n >>= 1) {
    if (n & 1) value += inv;
    inv *= 0.5;
  }
  return value;
}

/** [scale, bias] of the Fresnel term for a roughness and a cosine between normal and view. */
export function integrateBrdf(roughness, NdotV) {
  const vx = Math.sqrt(1 - NdotV * NdotV);
  const vz = NdotV;
  const alpha = roughness * roughness;
  const alpha2 = alpha * alpha;
  let a = 0;
  let b = 0;
  for (let i = 0; i < SAMPLES; i += 1) {
    const phi = (2 * Math.PI * i) / SAMPLES;
    const y = radicalInverse(i);
    const cosTheta = Math.sqrt((1 - y) / (1 + (alpha2 - 1) * y));
    const sinTheta = Math.sqrt(1 - cosTheta * cosTheta);
    // H turned about the normal (0, 0, 1) as Cesium's tangent frame turns it: its x is the
    // sample's y; L = 2 (V·H) H − V, and V has no y.
    const hx = sinTheta * Math.sin(phi);
    const hz = cosTheta;
    const VdotH0 = vx * hx + vz * hz;
    const lz = 2 * VdotH0 * hz - vz;
    const NdotL = Math.min(Math.max(lz, 0), 1);
    const NdotH = Math.min(Math.max(hz, 0), 1);
    const VdotH = Math.min(Math.max(VdotH0, 0), 1);
    if (NdotL > 0) {
      const ggxV = NdotL * Math.sqrt(NdotV * NdotV * (1 - alpha2) + alpha2);
      const ggxL = NdotV * Math.sqrt(NdotL * NdotL * (1 - alpha2) + alpha2);
      const visibility = ggxV + ggxL > 0 ? 0.5 / (ggxV + ggxL) : 0;
      const gVis = (4 * visibility * VdotH * NdotL) / NdotH;
      const fc = (1 - VdotH) ** 5;
      a += (1 - fc) * gVis;
      b += fc * gVis;
    }
  }
  return [a / SAMPLES, b / SAMPLES];
}

/** The table as RGBA bytes: row = roughness, column = N·V (texel centres), as Cesium's. */
export function brdfTable(size = LUT_SIZE) {
  const data = new Uint8Array(size * size * 4);
  for (let row = 0; row < size; row += 1) {
    for (let col = 0; col < size; col += 1) {
      const [a, b] = integrateBrdf((row + 0.5) / size, (col + 0.5) / size);
      const at = (row * size + col) * 4;
      data[at] = Math.round(Math.min(Math.max(a, 0), 1) * 255);
      data[at + 1] = Math.round(Math.min(Math.max(b, 0), 1) * 255);
      data[at + 3] = 255;
    }
  }
  return data;
}

/** Make every scene use the table computed here instead of rendering its own. */
export function useComputedBrdfTable() {
  BrdfLutGenerator.prototype.update = function update(frameState) {
    if (this._colorTexture) return;
    this._colorTexture = new Texture({
      context: frameState.context,
      width: LUT_SIZE,
      height: LUT_SIZE,
      pixelFormat: PixelFormat.RGBA,
      pixelDatatype: PixelDatatype.UNSIGNED_BYTE,
      source: { width: LUT_SIZE, height: LUT_SIZE, arrayBufferView: brdfTable() },
      sampler: new Sampler({
        wrapS: TextureWrap.CLAMP_TO_EDGE,
        wrapT: TextureWrap.CLAMP_TO_EDGE,
        minificationFilter: TextureMinificationFilter.LINEAR,
        magnificationFilter: TextureMagnificationFilter.LINEAR,
      }),
    });
  };
}
