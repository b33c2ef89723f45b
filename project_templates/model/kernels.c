/* int8 kernels of the compiled model. They follow TFLite's int8 quantization spec: int32
 * accumulators, a fixed-point multiplier and shift per output channel with TFLite's double
 * rounding, so the outputs equal the TFLite reference kernels. The input offset of convolutions
 * and fully connected layers is folded into the bias at compile time (padding is filled with the
 * input zero point, which then contributes nothing), so the inner loops are plain dot products.
 * With the Cortex-M DSP extension the dot products use SMLAD on pairs of 16-bit values. */

#if defined(TMS_SIMD)
#include <arm_acle.h>

static inline uint32_t tms_load32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* SXTB16 of the word rotated by 8: bytes 1 and 3 sign-extended to two halfwords, one instruction. */
static inline uint32_t tms_sxtb16_ror8(uint32_t a)
{
#if defined(__GNUC__)
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(a));
    return r;
#else
    return __sxtb16((a >> 8) | (a << 24));
#endif
}
#endif

/* MultiplyByQuantizedMultiplier of TFLite, rewritten with fewer operations but the same result:
 * SaturatingRoundingDoublingHighMul(x, m) equals (x * m + 2^30) >> 31 (floor) for every input with
 * m in [2^30, 2^31) (the saturating case cannot occur), and RoundingDivideByPOT(v, e) rounds half
 * away from zero, computed without overflow as (v >> e) + (((v & mask) + 2^(e-1) - (v < 0)) >> e). */
static inline int32_t tms_requant(int32_t x, int32_t multiplier, int shift)
{
    int32_t high;
    if (shift > 0) {
        x = (int32_t)((uint32_t)x << shift);
    }
    high = (int32_t)(((int64_t)x * multiplier + ((int64_t)1 << 30)) >> 31);
    if (shift < 0) {
        const int e = -shift;
        const int32_t mask = (int32_t)((1u << e) - 1u);
        high = (high >> e) + (((high & mask) + (1 << (e - 1)) - (high < 0 ? 1 : 0)) >> e);
    }
    return high;
}

/* TFLite's reference FULLY_CONNECTED rounds once: (x * m + 2^(30 - shift)) >> (31 - shift). */
static inline int32_t tms_requant_once(int32_t x, int32_t multiplier, int shift)
{
    const int total = 31 - shift;
    const int64_t r = (int64_t)x * multiplier + ((int64_t)1 << (total - 1));
    return (int32_t)(r >> total);
}

static inline int8_t tms_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

{% if "tms_conv" in kernels or "tms_fc" in kernels %}
#define TMS_SCALE(acc, r) \
    (once ? tms_requant_once((acc), mult[(r)], shift[(r)]) : tms_requant((acc), mult[(r)], shift[(r)]))

/* ---- dot products of an int16 patch with int8 weight rows (k4 a multiple of 4) ---- */

#if defined(TMS_SIMD)
/* Reorders each group of four to (x0, x2, x1, x3) so that it pairs with SXTB16(w) = (w0, w2)
 * and SXTB16(w ROR 8) = (w1, w3). */
static void tms_reorder16(int16_t *x, int k4)
{
    int i;
    for (i = 0; i < k4; i += 4) {
        const int16_t t = x[i + 1];
        x[i + 1] = x[i + 2];
        x[i + 2] = t;
    }
}

static void tms_rows(const int16_t *patch, const int8_t *w, int k4, int rows, const int32_t *bias,
                     const int32_t *mult, const int8_t *shift, int32_t out_zp, int32_t lo, int32_t hi,
                     int8_t *out, int once)
{
    int r = 0;
    for (; r + 2 <= rows; r += 2) {
        const int8_t *wa = w + (size_t)r * k4;
        const int8_t *wb = wa + k4;
        const int16_t *x = patch;
        int32_t acc_a = bias[r], acc_b = bias[r + 1];
        int k;
        for (k = 0; k < k4; k += 4) {
            const uint32_t x02 = tms_load32(x);
            const uint32_t x13 = tms_load32(x + 2);
            const uint32_t a = tms_load32(wa + k);
            const uint32_t b = tms_load32(wb + k);
            acc_a = __smlad(__sxtb16(a), x02, acc_a);
            acc_a = __smlad(tms_sxtb16_ror8(a), x13, acc_a);
            acc_b = __smlad(__sxtb16(b), x02, acc_b);
            acc_b = __smlad(tms_sxtb16_ror8(b), x13, acc_b);
            x += 4;
        }
        out[r] = tms_clamp(TMS_SCALE(acc_a, r) + out_zp, lo, hi);
        out[r + 1] = tms_clamp(TMS_SCALE(acc_b, r + 1) + out_zp, lo, hi);
    }
    for (; r < rows; ++r) {
        const int8_t *wa = w + (size_t)r * k4;
        const int16_t *x = patch;
        int32_t acc = bias[r];
        int k;
        for (k = 0; k < k4; k += 4) {
            const uint32_t a = tms_load32(wa + k);
            acc = __smlad(__sxtb16(a), tms_load32(x), acc);
            acc = __smlad(tms_sxtb16_ror8(a), tms_load32(x + 2), acc);
            x += 4;
        }
        out[r] = tms_clamp(TMS_SCALE(acc, r) + out_zp, lo, hi);
    }
}
#else
static void tms_rows(const int16_t *patch, const int8_t *w, int k4, int rows, const int32_t *bias,
                     const int32_t *mult, const int8_t *shift, int32_t out_zp, int32_t lo, int32_t hi,
                     int8_t *out, int once)
{
    int r;
    for (r = 0; r < rows; ++r) {
        const int8_t *wr = w + (size_t)r * k4;
        int32_t acc = bias[r];
        int k;
        for (k = 0; k < k4; k += 4) {
            acc += patch[k] * wr[k] + patch[k + 1] * wr[k + 1] + patch[k + 2] * wr[k + 2] + patch[k + 3] * wr[k + 3];
        }
        out[r] = tms_clamp(TMS_SCALE(acc, r) + out_zp, lo, hi);
    }
}
#endif
{% endif %}

{% if "tms_conv" in kernels %}
/* ---- CONV_2D (NHWC input, OHWI weights with rows padded to k4) ---- */

typedef struct {
    int32_t ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, k4;
    int32_t pad_value, out_zp, act_min, act_max;
    const int8_t *weights;
    const int32_t *bias; /* the input offset is folded in */
    const int32_t *mult;
    const int8_t *shift;
} tms_conv_t;

static void tms_conv(const tms_conv_t *p, const int8_t *in, int8_t *out, int16_t *patch)
{
    int oy, ox, ky, kx, c;
    const int k = p->kh * p->kw * p->ic;
    int8_t pad = (int8_t)p->pad_value;
    for (c = k; c < p->k4; ++c) {
        patch[c] = 0;
    }
    for (oy = 0; oy < p->oh; ++oy) {
        for (ox = 0; ox < p->ow; ++ox) {
            int16_t *dst = patch;
            const int y0 = oy * p->sh - p->pt;
            const int x0 = ox * p->sw - p->pl;
            if ((p->dw == 1 || p->kw == 1) && x0 >= 0 && x0 + p->kw <= p->iw) {
                /* the kernel's columns are contiguous in the input: copy whole rows */
                for (ky = 0; ky < p->kh; ++ky) {
                    const int y = y0 + ky * p->dh;
                    const int n = p->kw * p->ic;
                    if (y < 0 || y >= p->ih) {
                        for (c = 0; c < n; ++c) {
                            dst[c] = pad;
                        }
                    } else {
                        const int8_t *src = in + ((size_t)y * p->iw + x0) * p->ic;
                        for (c = 0; c < n; ++c) {
                            dst[c] = src[c];
                        }
                    }
                    dst += n;
                }
            } else {
                for (ky = 0; ky < p->kh; ++ky) {
                    const int y = y0 + ky * p->dh;
                    for (kx = 0; kx < p->kw; ++kx) {
                        const int x = x0 + kx * p->dw;
                        if (y < 0 || y >= p->ih || x < 0 || x >= p->iw) {
                            for (c = 0; c < p->ic; ++c) {
                                dst[c] = pad;
                            }
                        } else {
                            const int8_t *src = in + ((size_t)y * p->iw + x) * p->ic;
                            for (c = 0; c < p->ic; ++c) {
                                dst[c] = src[c];
                            }
                        }
                        dst += p->ic;
                    }
                }
            }
#if defined(TMS_SIMD)
            tms_reorder16(patch, p->k4);
#endif
            tms_rows(patch, p->weights, p->k4, p->oc, p->bias, p->mult, p->shift, p->out_zp, p->act_min,
                     p->act_max, out, 0);
            out += p->oc;
        }
    }
}
{% endif %}

{% if "tms_dwconv" in kernels %}
/* ---- DEPTHWISE_CONV_2D (weights 1 x KH x KW x OC, OC = IC * depth multiplier) ---- */

typedef struct {
    int32_t ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, mult_depth;
    int32_t in_offset, out_zp, act_min, act_max;
    const int8_t *weights;
    const int32_t *bias;
    const int32_t *mult;
    const int8_t *shift;
} tms_dwconv_t;

static void tms_dwconv(const tms_dwconv_t *p, const int8_t *in, int8_t *out)
{
    int oy, ox, ky, kx, c;
    const int depth = p->mult_depth;
    for (oy = 0; oy < p->oh; ++oy) {
        const int y0 = oy * p->sh - p->pt;
        /* the taps inside the input (the rest read padding, which contributes nothing) */
        const int ky0 = y0 < 0 ? (-y0 + p->dh - 1) / p->dh : 0;
        int ky1 = (p->ih - y0 + p->dh - 1) / p->dh;
        ky1 = ky1 < p->kh ? ky1 : p->kh;
        for (ox = 0; ox < p->ow; ++ox) {
            const int x0 = ox * p->sw - p->pl;
            const int kx0 = x0 < 0 ? (-x0 + p->dw - 1) / p->dw : 0;
            int kx1 = (p->iw - x0 + p->dw - 1) / p->dw;
            kx1 = kx1 < p->kw ? kx1 : p->kw;
            c = 0;
#if defined(TMS_SIMD)
            if (depth == 1 && (p->ic & 3) == 0) {
                /* four channels at a time: SXTAB16 adds the input offset while it sign-extends */
                const uint32_t offset2 = ((uint32_t)(uint16_t)p->in_offset << 16) | (uint16_t)p->in_offset;
                const size_t xstep = (size_t)p->dw * p->ic, wstep = (size_t)p->oc;
                const size_t row = (size_t)p->iw * p->ic * p->dh, wrow = (size_t)p->kw * p->oc;
                const int8_t *base = in + ((size_t)(y0 + ky0 * p->dh) * p->iw + x0 + kx0 * p->dw) * p->ic;
                const int8_t *wbase = p->weights + (size_t)ky0 * wrow + (size_t)kx0 * wstep;
                const int taps_x = kx1 - kx0;
                for (; c < p->ic; c += 4) {
                    int32_t a0 = p->bias[c], a1 = p->bias[c + 1], a2 = p->bias[c + 2], a3 = p->bias[c + 3];
                    const int8_t *src_row = base + c;
                    const int8_t *w_row = wbase + c;
                    for (ky = ky0; ky < ky1; ++ky, src_row += row, w_row += wrow) {
                        const int8_t *src = src_row;
                        const int8_t *w = w_row;
                        for (kx = 0; kx < taps_x; ++kx, src += xstep, w += wstep) {
                            const uint32_t xv = tms_load32(src);
                            const uint32_t wv = tms_load32(w);
                            const uint32_t x02 = __sxtab16(offset2, xv);
                            const uint32_t x13 = __sxtab16(offset2, (xv >> 8) | (xv << 24));
                            const uint32_t w02 = __sxtb16(wv);
                            const uint32_t w13 = tms_sxtb16_ror8(wv);
                            a0 = __smlabb(x02, w02, a0);
                            a2 = __smlatt(x02, w02, a2);
                            a1 = __smlabb(x13, w13, a1);
                            a3 = __smlatt(x13, w13, a3);
                        }
                    }
                    out[c] = tms_clamp(tms_requant(a0, p->mult[c], p->shift[c]) + p->out_zp, p->act_min, p->act_max);
                    out[c + 1] = tms_clamp(tms_requant(a1, p->mult[c + 1], p->shift[c + 1]) + p->out_zp, p->act_min,
                                           p->act_max);
                    out[c + 2] = tms_clamp(tms_requant(a2, p->mult[c + 2], p->shift[c + 2]) + p->out_zp, p->act_min,
                                           p->act_max);
                    out[c + 3] = tms_clamp(tms_requant(a3, p->mult[c + 3], p->shift[c + 3]) + p->out_zp, p->act_min,
                                           p->act_max);
                }
            }
#endif
            for (; c < p->oc; ++c) {
                const int ci = c / depth;
                int32_t sum = p->bias[c];
                for (ky = ky0; ky < ky1; ++ky) {
                    const int8_t *src = in + ((size_t)(y0 + ky * p->dh) * p->iw + x0) * p->ic + ci;
                    const int8_t *w = p->weights + (size_t)ky * p->kw * p->oc + c;
                    for (kx = kx0; kx < kx1; ++kx) {
                        sum += (src[(size_t)kx * p->dw * p->ic] + p->in_offset) * w[(size_t)kx * p->oc];
                    }
                }
                out[c] = tms_clamp(tms_requant(sum, p->mult[c], p->shift[c]) + p->out_zp, p->act_min, p->act_max);
            }
            out += p->oc;
        }
    }
}
{% endif %}

{% if "tms_fc" in kernels %}
/* ---- FULLY_CONNECTED (weights OUT x IN, rows padded to k4) ---- */

typedef struct {
    int32_t batches, in, out, k4, out_zp, act_min, act_max;
    const int8_t *weights;
    const int32_t *bias; /* the input offset is folded in */
    const int32_t *mult;
    const int8_t *shift;
} tms_fc_t;

static void tms_fc(const tms_fc_t *p, const int8_t *in, int8_t *out, int16_t *patch)
{
    int b, k;
    for (b = 0; b < p->batches; ++b) {
        for (k = 0; k < p->in; ++k) {
            patch[k] = in[k];
        }
        for (; k < p->k4; ++k) {
            patch[k] = 0;
        }
#if defined(TMS_SIMD)
        tms_reorder16(patch, p->k4);
#endif
        tms_rows(patch, p->weights, p->k4, p->out, p->bias, p->mult, p->shift, p->out_zp, p->act_min, p->act_max,
                 out, 1);
        in += p->in;
        out += p->out;
    }
}
{% endif %}

{% if "tms_pool" in kernels %}
/* ---- AVERAGE_POOL_2D and MAX_POOL_2D (same quantization in and out) ---- */

typedef struct {
    int32_t ih, iw, c, oh, ow, fh, fw, sh, sw, pt, pl, act_min, act_max;
} tms_pool_t;

static void tms_pool(const tms_pool_t *p, const int8_t *in, int8_t *out, int is_max)
{
    int oy, ox, ch, y, x;
    for (oy = 0; oy < p->oh; ++oy) {
        const int y0 = oy * p->sh - p->pt;
        const int fy0 = y0 < 0 ? -y0 : 0;
        const int fy1 = p->fh < p->ih - y0 ? p->fh : p->ih - y0;
        for (ox = 0; ox < p->ow; ++ox) {
            const int x0 = ox * p->sw - p->pl;
            const int fx0 = x0 < 0 ? -x0 : 0;
            const int fx1 = p->fw < p->iw - x0 ? p->fw : p->iw - x0;
            const int count = (fy1 - fy0) * (fx1 - fx0);
            for (ch = 0; ch < p->c; ++ch) {
                int32_t acc = is_max ? -128 : 0;
                for (y = fy0; y < fy1; ++y) {
                    const int8_t *src = in + ((size_t)(y0 + y) * p->iw + x0) * p->c + ch;
                    for (x = fx0; x < fx1; ++x) {
                        const int32_t v = src[(size_t)x * p->c];
                        if (is_max) {
                            acc = v > acc ? v : acc;
                        } else {
                            acc += v;
                        }
                    }
                }
                if (!is_max && count > 0) {
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                }
                *out++ = tms_clamp(acc, p->act_min, p->act_max);
            }
        }
    }
}
{% endif %}

{% if "tms_add" in kernels %}
/* ---- ADD of two int8 tensors of one shape ---- */

typedef struct {
    int32_t size, in1_offset, in2_offset, in1_mult, in2_mult, out_mult, out_zp, act_min, act_max;
    int8_t in1_shift, in2_shift, out_shift, left_shift;
} tms_add_t;

static void tms_add(const tms_add_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    int i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)((uint32_t)(a[i] + p->in1_offset) << p->left_shift);
        const int32_t y = (int32_t)((uint32_t)(b[i] + p->in2_offset) << p->left_shift);
        const int32_t sx = tms_requant(x, p->in1_mult, p->in1_shift);
        const int32_t sy = tms_requant(y, p->in2_mult, p->in2_shift);
        out[i] = tms_clamp(tms_requant(sx + sy, p->out_mult, p->out_shift) + p->out_zp, p->act_min, p->act_max);
    }
}
{% endif %}

{% if "tms_requantize" in kernels %}
/* ---- QUANTIZE from int8 to int8 (a change of scale) ---- */

typedef struct {
    int32_t size, in_zp, mult, out_zp;
    int8_t shift;
} tms_requantize_t;

static void tms_requantize(const tms_requantize_t *p, const int8_t *in, int8_t *out)
{
    int i;
    for (i = 0; i < p->size; ++i) {
        out[i] = tms_clamp(tms_requant(in[i] - p->in_zp, p->mult, p->shift) + p->out_zp, -128, 127);
    }
}
{% endif %}

{% if "tms_mean" in kernels %}
/* ---- MEAN over the spatial axes of an NHWC tensor ---- */

typedef struct {
    int32_t hw, c, in_zp, mult, out_zp;
    int8_t shift;
} tms_mean_t;

static void tms_mean(const tms_mean_t *p, const int8_t *in, int8_t *out, int32_t *acc)
{
    int i, ch;
    for (ch = 0; ch < p->c; ++ch) {
        acc[ch] = 0;
    }
    for (i = 0; i < p->hw; ++i) {
        for (ch = 0; ch < p->c; ++ch) {
            acc[ch] += in[(size_t)i * p->c + ch];
        }
    }
    for (ch = 0; ch < p->c; ++ch) {
        const int32_t centred = acc[ch] - p->in_zp * p->hw;
        out[ch] = tms_clamp(tms_requant(centred, p->mult, p->shift) + p->out_zp, -128, 127);
    }
}
{% endif %}

{% if "tms_softmax" in kernels %}
/* ---- SOFTMAX over the last axis. TFLite's int8 kernel looks up exp() in a 256-entry float
 * table (computed at compile time) and rounds the rescaled probability; this does the same
 * float operations in the same order, so the result is identical. ---- */

typedef struct {
    int32_t rows, depth, out_zp;
    float out_scale;
    const float *table; /* table[255 - d] = exp(-input_scale * beta * d) */
} tms_softmax_t;

static void tms_softmax(const tms_softmax_t *p, const int8_t *in, int8_t *out)
{
    int r, j;
    for (r = 0; r < p->rows; ++r) {
        int32_t max = -128;
        float sum = 0.0f;
        float inv;
        const float *t;
        for (j = 0; j < p->depth; ++j) {
            max = in[j] > max ? in[j] : max;
        }
        t = p->table + 255 - max;
        for (j = 0; j < p->depth; ++j) {
            sum += t[in[j]];
        }
        inv = 1.0f / (sum * p->out_scale);
        for (j = 0; j < p->depth; ++j) {
            const float prob = t[in[j]] * inv;
            out[j] = tms_clamp((int32_t)roundf(prob) + p->out_zp, -128, 127);
        }
        in += p->depth;
        out += p->depth;
    }
}
{% endif %}

