/* int8 kernels of the compiled model. They follow TFLite's int8 quantization spec: int32
 * accumulators, a fixed-point multiplier and shift per output channel with TFLite's double
 * rounding, so the outputs equal the TFLite reference kernels. The input offset of convolutions
 * and fully connected layers is folded into the bias at compile time (padding is filled with the
 * input zero point, which then contributes nothing), so the inner loops are plain dot products.
 * With the Cortex-M DSP extension the dot products use SMLAD on pairs of 16-bit values. */

#if defined(TMS_SIMD)
/* The DSP instructions. With GCC (and clang) they are written as inline assembly rather than taken
 * from <arm_acle.h>: GCC's arm_acle.h has the SIMD32 intrinsics only from GCC 10, and the toolchains
 * PlatformIO installs for many boards are GCC 6.3 to 9. Other compilers use the ACLE intrinsics. */
#if defined(__GNUC__)
/* two signed bytes (0 and 2) to two halfwords */
static inline uint32_t tms_sxtb16(uint32_t a)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(a));
    return r;
}

/* bytes 1 and 3 (the word rotated by 8) to two halfwords, one instruction */
static inline uint32_t tms_sxtb16_ror8(uint32_t a)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(a));
    return r;
}

/* bytes 0 and 2 of b sign-extended and added to the halfwords of a */
static inline uint32_t tms_sxtab16(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* acc + a.lo * b.lo + a.hi * b.hi */
static inline int32_t tms_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

/* acc + a.lo * b.lo */
static inline int32_t tms_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlabb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

/* acc + a.hi * b.hi */
static inline int32_t tms_smlatt(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlatt %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
#else
#include <arm_acle.h>
#define tms_sxtb16(a) __sxtb16(a)
#define tms_sxtb16_ror8(a) __sxtb16(((a) >> 8) | ((a) << 24))
#define tms_sxtab16(a, b) __sxtab16((a), (b))
#define tms_smlad(a, b, acc) __smlad((a), (b), (acc))
#define tms_smlabb(a, b, acc) __smlabb((a), (b), (acc))
#define tms_smlatt(a, b, acc) __smlatt((a), (b), (acc))
#endif

static inline uint32_t tms_load32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
#endif

/* ---- rescaling an int32 accumulator to the output scale ----
 * TFLite's MultiplyByQuantizedMultiplier: SaturatingRoundingDoublingHighMul(x << max(shift, 0), m),
 * then RoundingDivideByPOT by max(-shift, 0). For m in [2^30, 2^31) the high multiply equals
 * (x * m + 2^30) >> 31 (floor; the saturating case cannot occur), which is SMMULR(2x, m) whenever
 * 2x fits 32 bits. The compiler bounds every layer's accumulators from its weights and biases:
 * layers whose bound keeps x << (max(shift, 0) + 1) inside 32 bits use that form (TMS_FAST), the
 * others the 64-bit one. */

#define TMS_EXACT 0
#define TMS_FAST 1
#define TMS_ONCE 2 /* FULLY_CONNECTED: LiteRT's reference rounds once, (x * m + 2^(30 - shift)) >> (31 - shift) */
#define TMS_ONCE_FAST 3

/* (a * b + 2^31) >> 32, signed */
static inline int32_t tms_mulhr(int32_t a, int32_t b)
{
#if defined(TMS_SIMD) && defined(__GNUC__)
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
#endif
}

/* (a * b) >> 32, signed */
static inline int32_t tms_mulh(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * b) >> 32);
}

/* x / 2^e rounded half away from zero (TFLite's RoundingDivideByPOT), e in [0, 31] */
static inline int32_t tms_rdiv(int32_t x, int e)
{
    const int32_t mask = (int32_t)((1u << e) - 1u);
    const int32_t threshold = (mask >> 1) + (int32_t)((uint32_t)x >> 31);
    return (x >> e) + ((x & mask) > threshold);
}

/* Any accumulator. */
static inline int32_t tms_requant(int32_t x, int32_t multiplier, int shift)
{
    int32_t high;
    if (shift > 0) {
        x = (int32_t)((uint32_t)x << shift);
    }
    high = (int32_t)(((int64_t)x * multiplier + ((int64_t)1 << 30)) >> 31);
    return shift < 0 ? tms_rdiv(high, -shift) : high;
}

/* Accumulators with |x << (max(shift, 0) + 1)| < 2^31. */
static inline int32_t tms_requant_fast(int32_t x, int32_t multiplier, int shift)
{
    const int left = (shift > 0 ? shift : 0) + 1;
    return tms_rdiv(tms_mulhr((int32_t)((uint32_t)x << left), multiplier), left - 1 - shift);
}

/* FULLY_CONNECTED, any accumulator. */
static inline int32_t tms_requant_once(int32_t x, int32_t multiplier, int shift)
{
    const int total = 31 - shift;
    const int64_t r = (int64_t)x * multiplier + ((int64_t)1 << (total - 1));
    return (int32_t)(r >> total);
}

/* FULLY_CONNECTED with |x << (max(shift, 0) + 1)| < 2^31. For shift < 0, flooring the product to
 * 2^-31 first does not change floor((x * m + 2^(30 - shift)) / 2^(31 - shift)). */
static inline int32_t tms_requant_once_fast(int32_t x, int32_t multiplier, int shift)
{
    if (shift >= 0) {
        return tms_mulhr((int32_t)((uint32_t)x << (shift + 1)), multiplier);
    }
    return (tms_mulh((int32_t)((uint32_t)x << 1), multiplier) + (1 << (-shift - 1))) >> -shift;
}

static inline int8_t tms_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

#if defined(__GNUC__)
#define TMS_INLINE static inline __attribute__((always_inline))
#else
#define TMS_INLINE static inline
#endif

/* Kernels stay functions of their own, never inlined into the model nor specialised for one call:
 * GCC otherwise folds a single call's constants in and runs out of registers in the inner loops,
 * so the same layer would run slower in a one-layer model than in a larger one. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define TMS_KERNEL static __attribute__((noipa))
#elif defined(__GNUC__)
#define TMS_KERNEL static __attribute__((noinline))
#else
#define TMS_KERNEL static
#endif

/* The kernels below are instantiated once per rescaling mode (mode is a constant after inlining),
 * so the choice costs nothing per output. */
TMS_INLINE int8_t tms_finish(int32_t acc, int32_t multiplier, int shift, int mode, int32_t zp, int32_t lo, int32_t hi)
{
    int32_t v;
    switch (mode) {
    case TMS_FAST:
        v = tms_requant_fast(acc, multiplier, shift);
        break;
    case TMS_ONCE:
        v = tms_requant_once(acc, multiplier, shift);
        break;
    case TMS_ONCE_FAST:
        v = tms_requant_once_fast(acc, multiplier, shift);
        break;
    default:
        v = tms_requant(acc, multiplier, shift);
        break;
    }
    return tms_clamp(v + zp, lo, hi);
}

/* Calls call_with_mode(m) with m the constant equal to mode: one instantiation per mode. */
#define TMS_BY_MODE(mode, call_with_mode) \
    switch (mode) { \
    case TMS_FAST: call_with_mode(TMS_FAST); break; \
    case TMS_ONCE: call_with_mode(TMS_ONCE); break; \
    case TMS_ONCE_FAST: call_with_mode(TMS_ONCE_FAST); break; \
    default: call_with_mode(TMS_EXACT); break; \
    }

#define TMS_BY_CONV_MODE(mode, call_with_mode) \
    if ((mode) == TMS_FAST) { \
        call_with_mode(TMS_FAST); \
    } else { \
        call_with_mode(TMS_EXACT); \
    }

{% if "tms_conv" in kernels or "tms_fc" in kernels %}
/* ---- int8 weight rows times int8 vectors (CONV_2D on im2col patches, FULLY_CONNECTED) ----
 * Rows are padded to k4 (a multiple of 4) and stored in pairs: for rows r and r + 1 each group of
 * four weights of row r is followed by the same group of row r + 1, so one pointer walks both. An
 * odd last row is stored plainly. */

typedef struct {
    const int32_t *bias; /* the input offset is folded in */
    const int32_t *mult;
    const int8_t *shift;
    int32_t out_zp, act_min, act_max, mode;
} tms_out_t;

#if defined(TMS_SIMD)
/* int8 -> the int16 pairs SMLAD takes: per group of four, (x0, x2) and (x1, x3), which pair with
 * SXTB16(w) = (w0, w2) and SXTB16(w ROR 8) = (w1, w3). The two words go to dst[0] and dst[gap];
 * with gap 2 two vectors interleave (A02, B02, A13, B13), with gap 1 one vector is dense. */
TMS_KERNEL void tms_widen(const int8_t *x, int k4, uint32_t *dst, int gap)
{
    const int step = 2 * gap;
    int k;
    for (k = 0; k < k4; k += 4, dst += step) {
        const uint32_t v = tms_load32(x + k);
        dst[0] = tms_sxtb16(v);
        dst[gap] = tms_sxtb16_ror8(v);
    }
}

{% if "tms_conv" in kernels %}
/* Two vectors (interleaved by tms_widen, gap 2) times every row: four dot products per pass. */
TMS_INLINE void tms_rows2_mode(const uint32_t *x, const int8_t *w, int k4, int rows, const tms_out_t *q,
                               int8_t *out_a, int8_t *out_b, const int mode)
{
    const int32_t *const bias = q->bias, *const mult = q->mult;
    const int8_t *const shift = q->shift;
    const int32_t zp = q->out_zp, lo = q->act_min, hi = q->act_max;
    int r = 0;
    for (; r + 2 <= rows; r += 2) {
        const int8_t *const end = w + 2 * k4;
        const uint32_t *xp = x;
        int32_t aa = bias[r], ab = aa, ba = bias[r + 1], bb = ba, m;
        int s;
        while (w != end) {
            const uint32_t wa = tms_load32(w), wb = tms_load32(w + 4);
            uint32_t xa = xp[0], xb = xp[1], t;
            t = tms_sxtb16(wa);
            aa = tms_smlad(t, xa, aa);
            ab = tms_smlad(t, xb, ab);
            t = tms_sxtb16(wb);
            ba = tms_smlad(t, xa, ba);
            bb = tms_smlad(t, xb, bb);
            xa = xp[2];
            xb = xp[3];
            t = tms_sxtb16_ror8(wa);
            aa = tms_smlad(t, xa, aa);
            ab = tms_smlad(t, xb, ab);
            t = tms_sxtb16_ror8(wb);
            ba = tms_smlad(t, xa, ba);
            bb = tms_smlad(t, xb, bb);
            w += 8;
            xp += 4;
        }
        m = mult[r];
        s = shift[r];
        out_a[r] = tms_finish(aa, m, s, mode, zp, lo, hi);
        out_b[r] = tms_finish(ab, m, s, mode, zp, lo, hi);
        m = mult[r + 1];
        s = shift[r + 1];
        out_a[r + 1] = tms_finish(ba, m, s, mode, zp, lo, hi);
        out_b[r + 1] = tms_finish(bb, m, s, mode, zp, lo, hi);
    }
    if (r < rows) {
        const uint32_t *xp = x;
        int32_t aa = bias[r], ab = aa;
        int k;
        for (k = 0; k < k4; k += 4, xp += 4) {
            const uint32_t wa = tms_load32(w + k);
            uint32_t t = tms_sxtb16(wa);
            aa = tms_smlad(t, xp[0], aa);
            ab = tms_smlad(t, xp[1], ab);
            t = tms_sxtb16_ror8(wa);
            aa = tms_smlad(t, xp[2], aa);
            ab = tms_smlad(t, xp[3], ab);
        }
        out_a[r] = tms_finish(aa, mult[r], shift[r], mode, zp, lo, hi);
        out_b[r] = tms_finish(ab, mult[r], shift[r], mode, zp, lo, hi);
    }
}

TMS_KERNEL void tms_rows2(const uint32_t *x, const int8_t *w, int k4, int rows, const tms_out_t *q, int8_t *out_a,
                      int8_t *out_b)
{
#define TMS_CALL(mode) tms_rows2_mode(x, w, k4, rows, q, out_a, out_b, mode)
    TMS_BY_CONV_MODE(q->mode, TMS_CALL)
#undef TMS_CALL
}

{% endif %}

/* One vector (widened with gap 1) times every row. */
TMS_INLINE void tms_rows1_mode(const uint32_t *x, const int8_t *w, int k4, int rows, const tms_out_t *q,
                               int8_t *out, const int mode)
{
    const int32_t *const bias = q->bias, *const mult = q->mult;
    const int8_t *const shift = q->shift;
    const int32_t zp = q->out_zp, lo = q->act_min, hi = q->act_max;
    int r = 0;
    for (; r + 2 <= rows; r += 2) {
        const int8_t *const end = w + 2 * k4;
        const uint32_t *xp = x;
        int32_t a = bias[r], b = bias[r + 1];
        while (w != end) {
            const uint32_t wa = tms_load32(w), wb = tms_load32(w + 4);
            const uint32_t x02 = xp[0], x13 = xp[1];
            a = tms_smlad(tms_sxtb16(wa), x02, a);
            b = tms_smlad(tms_sxtb16(wb), x02, b);
            a = tms_smlad(tms_sxtb16_ror8(wa), x13, a);
            b = tms_smlad(tms_sxtb16_ror8(wb), x13, b);
            w += 8;
            xp += 2;
        }
        out[r] = tms_finish(a, mult[r], shift[r], mode, zp, lo, hi);
        out[r + 1] = tms_finish(b, mult[r + 1], shift[r + 1], mode, zp, lo, hi);
    }
    if (r < rows) {
        int32_t a = bias[r];
        int k;
        for (k = 0; k < k4; k += 4, x += 2) {
            const uint32_t wa = tms_load32(w + k);
            a = tms_smlad(tms_sxtb16(wa), x[0], a);
            a = tms_smlad(tms_sxtb16_ror8(wa), x[1], a);
        }
        out[r] = tms_finish(a, mult[r], shift[r], mode, zp, lo, hi);
    }
}

TMS_KERNEL void tms_rows1(const uint32_t *x, const int8_t *w, int k4, int rows, const tms_out_t *q, int8_t *out)
{
#define TMS_CALL(mode) tms_rows1_mode(x, w, k4, rows, q, out, mode)
    TMS_BY_MODE(q->mode, TMS_CALL)
#undef TMS_CALL
}

#else
/* One int8 vector times every row, in plain C. */
TMS_INLINE void tms_rows_plain_mode(const int8_t *x, const int8_t *w, int k4, int rows, const tms_out_t *q,
                                    int8_t *out, const int mode)
{
    const int32_t *const bias = q->bias, *const mult = q->mult;
    const int8_t *const shift = q->shift;
    const int32_t zp = q->out_zp, lo = q->act_min, hi = q->act_max;
    int r = 0, k, j;
    for (; r + 2 <= rows; r += 2, w += 2 * k4) {
        int32_t a = bias[r], b = bias[r + 1];
        const int8_t *wp = w;
        for (k = 0; k < k4; k += 4, wp += 8) {
            for (j = 0; j < 4; ++j) {
                a += x[k + j] * wp[j];
                b += x[k + j] * wp[4 + j];
            }
        }
        out[r] = tms_finish(a, mult[r], shift[r], mode, zp, lo, hi);
        out[r + 1] = tms_finish(b, mult[r + 1], shift[r + 1], mode, zp, lo, hi);
    }
    if (r < rows) {
        int32_t a = bias[r];
        for (k = 0; k < k4; ++k) {
            a += x[k] * w[k];
        }
        out[r] = tms_finish(a, mult[r], shift[r], mode, zp, lo, hi);
    }
}

TMS_KERNEL void tms_rows_plain(const int8_t *x, const int8_t *w, int k4, int rows, const tms_out_t *q, int8_t *out)
{
#define TMS_CALL(mode) tms_rows_plain_mode(x, w, k4, rows, q, out, mode)
    TMS_BY_MODE(q->mode, TMS_CALL)
#undef TMS_CALL
}
#endif
{% endif %}

{% if "tms_conv" in kernels %}
/* ---- CONV_2D (NHWC input, OHWI weights as rows of kh * kw * ic padded to k4) ----
 * Each output pixel's receptive field is gathered into an int8 patch (im2col; padding reads the
 * input zero point, which the folded bias cancels), or read in place when the filter is 1x1 over
 * a multiple of 4 channels ("direct"). With SIMD two pixels share each pass over the weights. */

typedef struct {
    int32_t ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, k4;
    int32_t pad_value, out_zp, act_min, act_max, mode, direct;
    const int8_t *weights;
    const int32_t *bias;
    const int32_t *mult;
    const int8_t *shift;
} tms_conv_t;

TMS_KERNEL const int8_t *tms_gather(const tms_conv_t *p, const int8_t *in, int oy, int ox, int8_t *patch)
{
    const int y0 = oy * p->sh - p->pt;
    const int x0 = ox * p->sw - p->pl;
    const int8_t pad = (int8_t)p->pad_value;
    int8_t *dst = patch;
    int ky, kx, c;
    if (p->direct) {
        return in + ((size_t)y0 * p->iw + x0) * p->ic;
    }
    if ((p->dw == 1 || p->kw == 1) && x0 >= 0 && x0 + p->kw <= p->iw) {
        /* the kernel's columns are contiguous in the input: copy whole rows */
        const size_t n = (size_t)p->kw * p->ic;
        for (ky = 0; ky < p->kh; ++ky, dst += n) {
            const int y = y0 + ky * p->dh;
            if (y < 0 || y >= p->ih) {
                memset(dst, pad, n);
            } else {
                memcpy(dst, in + ((size_t)y * p->iw + x0) * p->ic, n);
            }
        }
    } else {
        for (ky = 0; ky < p->kh; ++ky) {
            const int y = y0 + ky * p->dh;
            for (kx = 0; kx < p->kw; ++kx, dst += p->ic) {
                const int x = x0 + kx * p->dw;
                if (y < 0 || y >= p->ih || x < 0 || x >= p->iw) {
                    memset(dst, pad, (size_t)p->ic);
                } else {
                    memcpy(dst, in + ((size_t)y * p->iw + x) * p->ic, (size_t)p->ic);
                }
            }
        }
    }
    for (c = (int)(dst - patch); c < p->k4; ++c) {
        patch[c] = 0;
    }
    return patch;
}

/* scratch: 4 * k4 bytes of widened patches (SIMD), then two int8 patches of k4 unless direct */
TMS_KERNEL void tms_conv(const tms_conv_t *p, const int8_t *in, int8_t *out, uint32_t *scratch)
{
    const tms_out_t q = {p->bias, p->mult, p->shift, p->out_zp, p->act_min, p->act_max, p->mode};
    int8_t *patch_a = (int8_t *)(void *)(scratch + p->k4);
    int oy = 0, ox = 0;
    const int pixels = p->oh * p->ow;
    int i;
    for (i = 0; i < pixels; ++i) {
        const int8_t *xa = tms_gather(p, in, oy, ox, patch_a);
        if (++ox == p->ow) {
            ox = 0;
            ++oy;
        }
#if defined(TMS_SIMD)
        if (i + 1 < pixels) {
            const int8_t *xb = tms_gather(p, in, oy, ox, patch_a + p->k4);
            if (++ox == p->ow) {
                ox = 0;
                ++oy;
            }
            ++i;
            tms_widen(xa, p->k4, scratch, 2);
            tms_widen(xb, p->k4, scratch + 1, 2);
            tms_rows2(scratch, p->weights, p->k4, p->oc, &q, out, out + p->oc);
            out += 2 * p->oc;
            continue;
        }
        tms_widen(xa, p->k4, scratch, 1);
        tms_rows1(scratch, p->weights, p->k4, p->oc, &q, out);
#else
        tms_rows_plain(xa, p->weights, p->k4, p->oc, &q, out);
#endif
        out += p->oc;
    }
}
{% endif %}

{% if "tms_dwconv" in kernels %}
/* ---- DEPTHWISE_CONV_2D (weights 1 x KH x KW x OC, OC = IC * depth multiplier) ---- */

typedef struct {
    int32_t ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, mult_depth;
    int32_t in_offset, out_zp, act_min, act_max, mode;
    const int8_t *weights;
    const int32_t *bias;
    const int32_t *mult;
    const int8_t *shift;
} tms_dwconv_t;

#if defined(TMS_SIMD)
/* SXTAB16 of b rotated by 8: bytes 1 and 3 of b sign-extended and added to the halfwords of a. */
static inline uint32_t tms_sxtab16_ror8(uint32_t a, uint32_t b)
{
#if defined(__GNUC__)
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return tms_sxtab16(a, (b >> 8) | (b << 24));
#endif
}
#endif

TMS_INLINE void tms_dwconv_mode(const tms_dwconv_t *p, const int8_t *in, int8_t *out, const int mode)
{
    int oy, ox, ky, kx, c;
    const int depth = p->mult_depth;
    const int32_t zp = p->out_zp, lo = p->act_min, hi = p->act_max;
    const int32_t *const mult = p->mult;
    const int8_t *const shift = p->shift;
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
                            const uint32_t x02 = tms_sxtab16(offset2, xv);
                            const uint32_t x13 = tms_sxtab16_ror8(offset2, xv);
                            const uint32_t w02 = tms_sxtb16(wv);
                            const uint32_t w13 = tms_sxtb16_ror8(wv);
                            a0 = tms_smlabb(x02, w02, a0);
                            a2 = tms_smlatt(x02, w02, a2);
                            a1 = tms_smlabb(x13, w13, a1);
                            a3 = tms_smlatt(x13, w13, a3);
                        }
                    }
                    out[c] = tms_finish(a0, mult[c], shift[c], mode, zp, lo, hi);
                    out[c + 1] = tms_finish(a1, mult[c + 1], shift[c + 1], mode, zp, lo, hi);
                    out[c + 2] = tms_finish(a2, mult[c + 2], shift[c + 2], mode, zp, lo, hi);
                    out[c + 3] = tms_finish(a3, mult[c + 3], shift[c + 3], mode, zp, lo, hi);
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
                out[c] = tms_finish(sum, mult[c], shift[c], mode, zp, lo, hi);
            }
            out += p->oc;
        }
    }
}

TMS_KERNEL void tms_dwconv(const tms_dwconv_t *p, const int8_t *in, int8_t *out)
{
#define TMS_CALL(mode) tms_dwconv_mode(p, in, out, mode)
    TMS_BY_CONV_MODE(p->mode, TMS_CALL)
#undef TMS_CALL
}
{% endif %}

{% if "tms_fc" in kernels %}
/* ---- FULLY_CONNECTED (weights OUT x IN as rows padded to k4, stored in pairs) ----
 * scratch: 2 * k4 bytes of widened input (SIMD), then an int8 copy of k4 when IN is not a multiple of 4 */

typedef struct {
    int32_t batches, in, out, k4, out_zp, act_min, act_max, mode;
    const int8_t *weights;
    const int32_t *bias; /* the input offset is folded in */
    const int32_t *mult;
    const int8_t *shift;
} tms_fc_t;

TMS_KERNEL void tms_fc(const tms_fc_t *p, const int8_t *in, int8_t *out, uint32_t *scratch)
{
    const tms_out_t q = {p->bias, p->mult, p->shift, p->out_zp, p->act_min, p->act_max, p->mode};
    int8_t *copy = (int8_t *)(void *)(scratch + p->k4 / 2);
    int b;
    for (b = 0; b < p->batches; ++b, in += p->in, out += p->out) {
        const int8_t *x = in;
        if (p->in != p->k4) {
            memcpy(copy, in, (size_t)p->in);
            memset(copy + p->in, 0, (size_t)(p->k4 - p->in));
            x = copy;
        }
#if defined(TMS_SIMD)
        tms_widen(x, p->k4, scratch, 1);
        tms_rows1(scratch, p->weights, p->k4, p->out, &q, out);
#else
        tms_rows_plain(x, p->weights, p->k4, p->out, &q, out);
#endif
    }
}
{% endif %}

{% if "tms_pool" in kernels %}
/* ---- AVERAGE_POOL_2D and MAX_POOL_2D (same quantization in and out) ---- */

typedef struct {
    int32_t ih, iw, c, oh, ow, fh, fw, sh, sw, pt, pl, act_min, act_max;
} tms_pool_t;

TMS_KERNEL void tms_pool(const tms_pool_t *p, const int8_t *in, int8_t *out, int is_max)
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

TMS_KERNEL void tms_add(const tms_add_t *p, const int8_t *a, const int8_t *b, int8_t *out)
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

TMS_KERNEL void tms_requantize(const tms_requantize_t *p, const int8_t *in, int8_t *out)
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

TMS_KERNEL void tms_mean(const tms_mean_t *p, const int8_t *in, int8_t *out, int32_t *acc)
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

TMS_KERNEL void tms_softmax(const tms_softmax_t *p, const int8_t *in, int8_t *out)
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

