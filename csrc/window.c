/*
 * Sliding-window kernels: im2col/col2im for convolution, and max, average and adaptive average
 * pooling, each with its backward. float32 and float64 bodies come from one macro each.
 *
 * Every kernel works on "planes": one (height x width) image of one channel of one sample,
 * contiguous. A batch of N samples with C channels is N * C planes laid end to end, which is how
 * a C-contiguous (N, C, H, W) array sits in memory, so the kernels never need N and C apart
 * except im2col/col2im, whose column matrix interleaves samples.
 *
 * Backward kernels *add* into their output (`+=`): the caller passes zeros, and overlapping
 * windows (stride < kernel) then sum their contributions, which is the gradient of a sum.
 */
#include <math.h>
#include <limits.h>
#include <string.h>

#include "kernels.h"

/* ---- im2col / col2im ----------------------------------------------------------------------

   The column matrix has one row per (channel, kernel row, kernel column) and one column per
   (sample, output row, output column):

       cols[(c * kernel_h + ki) * kernel_w + kj][n * L + oh * out_w + ow]
           = x[n][c][oh * stride_h - pad_h + ki * dilation_h][ow * stride_w - pad_w + kj * dilation_w]

   with L = out_h * out_w and zero where the input index falls in the padding. Putting every
   sample in one row makes a convolution of the whole batch a single matrix product
   (weight (C_out, C*kh*kw) @ cols (C*kh*kw, N*L)), which BLAS runs far faster than N small ones.
   Rows of one group of channels are contiguous, so a grouped convolution is a batched product
   over row blocks. */

/* The output columns ow whose input column ow * stride - pad + offset lies inside [0, in_w):
   [*lo, *hi). Splitting a row into padding, interior and padding keeps the bounds test out of
   the inner loop, which then runs as a plain (for stride 1: contiguous) copy. */
static inline void interior(ag_size out_w, ag_size in_w, ag_size stride, ag_size pad,
                            ag_size offset, ag_size *lo, ag_size *hi)
{
    ag_size first = pad - offset;               /* ow * stride >= first */
    ag_size last = in_w + pad - offset;         /* ow * stride < last */
    *lo = first <= 0 ? 0 : (first + stride - 1) / stride;
    *hi = last <= 0 ? 0 : (last + stride - 1) / stride;
    if (*hi > out_w) *hi = out_w;
    if (*lo > *hi) *lo = *hi;
}

/* Stride 1 with as many output columns as input columns (3x3 with padding 1, and the like):
   output position d = oh * out_w + ow reads input position d + shift of the plane, so the rows
   of one (channel, kernel offset) are a single shifted block, copied at once instead of row by
   row (on the small planes deep in a network a row is a handful of elements). Each row's ends
   then wrapped round to the neighbouring input row; those entries are padding, zeroed after. */
static int shifts_whole_rows(const ag_window *w)
{
    return w->stride_h == 1 && w->stride_w == 1 && w->out_w == w->in_w;
}

/* The block of one (channel, kernel offset): output rows [*row_lo, *row_hi), columns [*lo, *hi)
   read the input; dst[d] = src[d + *shift] for d from row_lo * out_w + lo up to
   (row_hi - 1) * out_w + hi, which stays inside the plane. */
static inline void shifted_block(const ag_window *w, ag_size ki, ag_size kj, ag_size *row_lo,
                                 ag_size *row_hi, ag_size *lo, ag_size *hi, ag_size *shift)
{
    interior(w->out_h, w->in_h, 1, w->pad_h, ki * w->dilation_h, row_lo, row_hi);
    interior(w->out_w, w->in_w, 1, w->pad_w, kj * w->dilation_w, lo, hi);
    *shift = (ki * w->dilation_h - w->pad_h) * w->in_w + kj * w->dilation_w - w->pad_w;
}

#define DEFINE_IM2COL(NAME, T)                                                                  \
    static void NAME##_shifted(const ag_window *w, const T *plane, T *dst, ag_size ki,          \
                               ag_size kj)                                                      \
    {                                                                                           \
        ag_size row_lo, row_hi, lo, hi, shift, oh, ow, out_w = w->out_w;                        \
        ag_size L = w->out_h * out_w;                                                           \
        shifted_block(w, ki, kj, &row_lo, &row_hi, &lo, &hi, &shift);                           \
        if (row_lo >= row_hi || lo >= hi) {                                                     \
            memset(dst, 0, (size_t)L * sizeof(T));                                              \
            return;                                                                             \
        }                                                                                       \
        ag_size first = row_lo * out_w + lo, last = (row_hi - 1) * out_w + hi;                  \
        memset(dst, 0, (size_t)first * sizeof(T));                                              \
        memcpy(dst + first, plane + first + shift, (size_t)(last - first) * sizeof(T));        \
        memset(dst + last, 0, (size_t)(L - last) * sizeof(T));                                  \
        for (oh = row_lo; oh < row_hi; oh++) {                                                  \
            T *row = dst + oh * out_w;                                                          \
            for (ow = 0; ow < lo; ow++) row[ow] = 0;                                            \
            for (ow = hi; ow < out_w; ow++) row[ow] = 0;                                        \
        }                                                                                       \
    }                                                                                           \
                                                                                                \
    static void NAME(const ag_window *w, ag_size batch, ag_size channels, const T *x, T *cols)  \
    {                                                                                           \
        ag_size L = w->out_h * w->out_w, row_len = batch * L;                                   \
        ag_size n, c, ki, kj, oh, ow, lo, hi;                                                   \
        int shifted = shifts_whole_rows(w);                                                     \
        for (n = 0; n < batch; n++)                                                             \
            for (c = 0; c < channels; c++) {                                                    \
                const T *plane = x + (n * channels + c) * w->in_h * w->in_w;                    \
                for (ki = 0; ki < w->kernel_h; ki++)                                            \
                    for (kj = 0; kj < w->kernel_w; kj++) {                                      \
                        T *row = cols + ((c * w->kernel_h + ki) * w->kernel_w + kj) * row_len   \
                                 + n * L;                                                       \
                        if (shifted) {                                                          \
                            NAME##_shifted(w, plane, row, ki, kj);                              \
                            continue;                                                           \
                        }                                                                       \
                        ag_size offset = kj * w->dilation_w;                                    \
                        interior(w->out_w, w->in_w, w->stride_w, w->pad_w, offset, &lo, &hi);  \
                        for (oh = 0; oh < w->out_h; oh++) {                                     \
                            ag_size ih = oh * w->stride_h - w->pad_h + ki * w->dilation_h;      \
                            T *dst = row + oh * w->out_w;                                       \
                            if (ih < 0 || ih >= w->in_h) {                                      \
                                for (ow = 0; ow < w->out_w; ow++) dst[ow] = 0;                  \
                                continue;                                                       \
                            }                                                                   \
                            const T *src = plane + ih * w->in_w + offset - w->pad_w;            \
                            for (ow = 0; ow < lo; ow++) dst[ow] = 0;                            \
                            if (w->stride_w == 1)  /* libc's copy has the widest vectors */     \
                                memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof(T));      \
                            else                                                                \
                                for (ow = lo; ow < hi; ow++) dst[ow] = src[ow * w->stride_w];   \
                            for (ow = hi; ow < w->out_w; ow++) dst[ow] = 0;                     \
                        }                                                                       \
                    }                                                                           \
            }                                                                                   \
    }

/* The adjoint of im2col: every column entry is added back to the input position it came from
   (entries that came from padding are dropped). In the shifted-block case the padding entries
   of `cols` are zeroed first, so that one contiguous sum over the block adds nothing for them:
   col2im overwrites them, which its callers (who are done with the column gradient) allow. */
#define DEFINE_COL2IM(NAME, T)                                                                  \
    static void NAME##_shifted(const ag_window *w, T *src, T *plane, ag_size ki, ag_size kj)    \
    {                                                                                           \
        ag_size row_lo, row_hi, lo, hi, shift, oh, ow, d, out_w = w->out_w;                     \
        shifted_block(w, ki, kj, &row_lo, &row_hi, &lo, &hi, &shift);                           \
        if (row_lo >= row_hi || lo >= hi) return;                                               \
        for (oh = row_lo; oh < row_hi; oh++) {                                                  \
            T *row = src + oh * out_w;                                                          \
            for (ow = 0; ow < lo; ow++) row[ow] = 0;                                            \
            for (ow = hi; ow < out_w; ow++) row[ow] = 0;                                        \
        }                                                                                       \
        ag_size first = row_lo * out_w + lo, last = (row_hi - 1) * out_w + hi;                  \
        for (d = first; d < last; d++) plane[d + shift] += src[d];                              \
    }                                                                                           \
                                                                                                \
    static void NAME(const ag_window *w, ag_size batch, ag_size channels, T *cols, T *x)        \
    {                                                                                           \
        ag_size L = w->out_h * w->out_w, row_len = batch * L;                                   \
        ag_size n, c, ki, kj, oh, ow, lo, hi;                                                   \
        int shifted = shifts_whole_rows(w);                                                     \
        for (n = 0; n < batch; n++)                                                             \
            for (c = 0; c < channels; c++) {                                                    \
                T *plane = x + (n * channels + c) * w->in_h * w->in_w;                          \
                for (ki = 0; ki < w->kernel_h; ki++)                                            \
                    for (kj = 0; kj < w->kernel_w; kj++) {                                      \
                        T *row = cols                                                           \
                            + ((c * w->kernel_h + ki) * w->kernel_w + kj) * row_len + n * L;    \
                        if (shifted) {                                                          \
                            NAME##_shifted(w, row, plane, ki, kj);                              \
                            continue;                                                           \
                        }                                                                       \
                        ag_size offset = kj * w->dilation_w;                                    \
                        interior(w->out_w, w->in_w, w->stride_w, w->pad_w, offset, &lo, &hi);  \
                        for (oh = 0; oh < w->out_h; oh++) {                                     \
                            ag_size ih = oh * w->stride_h - w->pad_h + ki * w->dilation_h;      \
                            if (ih < 0 || ih >= w->in_h) continue;                              \
                            const T *src = row + oh * w->out_w;                                 \
                            T *dst = plane + ih * w->in_w + offset - w->pad_w;                  \
                            if (w->stride_w == 1)                                               \
                                for (ow = lo; ow < hi; ow++) dst[ow] += src[ow];                \
                            else                                                                \
                                for (ow = lo; ow < hi; ow++) dst[ow * w->stride_w] += src[ow];  \
                        }                                                                       \
                    }                                                                           \
            }                                                                                   \
    }

DEFINE_IM2COL(im2col_f32, float)
DEFINE_IM2COL(im2col_f64, double)
DEFINE_COL2IM(col2im_f32, float)
DEFINE_COL2IM(col2im_f64, double)

void ag_im2col(int dtype, const ag_window *w, ag_size batch, ag_size channels, const void *x,
               void *cols)
{
    if (dtype == AG_F32) im2col_f32(w, batch, channels, (const float *)x, (float *)cols);
    else im2col_f64(w, batch, channels, (const double *)x, (double *)cols);
}

void ag_col2im(int dtype, const ag_window *w, ag_size batch, ag_size channels, void *cols,
               void *x)
{
    if (dtype == AG_F32) col2im_f32(w, batch, channels, (float *)cols, (float *)x);
    else col2im_f64(w, batch, channels, (double *)cols, (double *)x);
}

/* ---- max pooling ---------------------------------------------------------------------------

   Padding positions never win: the window is clipped to the input before the scan. A NaN
   always wins and a later NaN replaces an earlier one, so NaN propagates as torch's does, and
   the saved index names the element whose value the output holds. The index is the flat
   position within the plane (ih * in_w + iw), which is what torch returns as `indices`.
   On real activations each comparison is a coin toss; the 2x2 loop below is written so that the
   compiler vectorises it into selects, since mispredicted branches cost five times its work. */

#define WINS(v, best) (((v) > (best)) | ((v) != (v)))

#define DEFINE_MAX_POOL(NAME, T, LOWEST)                                                        \
    static void NAME(const ag_window *w, ag_size planes, const T *x, T *y, int64_t *idx)       \
    {                                                                                           \
        ag_size p, oh, ow, ih, iw;                                                              \
        for (p = 0; p < planes; p++) {                                                          \
            const T *plane = x + p * w->in_h * w->in_w;                                         \
            for (oh = 0; oh < w->out_h; oh++) {                                                 \
                ag_size h0 = oh * w->stride_h - w->pad_h;                                       \
                ag_size h1 = h0 + (w->kernel_h - 1) * w->dilation_h + 1;                        \
                if (h1 > w->in_h) h1 = w->in_h;                                                 \
                while (h0 < 0) h0 += w->dilation_h;                                             \
                for (ow = 0; ow < w->out_w; ow++) {                                             \
                    ag_size w0 = ow * w->stride_w - w->pad_w;                                   \
                    ag_size w1 = w0 + (w->kernel_w - 1) * w->dilation_w + 1;                    \
                    if (w1 > w->in_w) w1 = w->in_w;                                             \
                    while (w0 < 0) w0 += w->dilation_w;                                         \
                    ag_size best_at = h0 * w->in_w + w0;                                        \
                    T best = LOWEST;                                                            \
                    for (ih = h0; ih < h1; ih += w->dilation_h)                                 \
                        for (iw = w0; iw < w1; iw += w->dilation_w) {                           \
                            T v = plane[ih * w->in_w + iw];                                     \
                            if (WINS(v, best)) {                                                \
                                best = v;                                                       \
                                best_at = ih * w->in_w + iw;                                    \
                            }                                                                   \
                        }                                                                       \
                    *y++ = best;                                                                \
                    *idx++ = best_at;                                                           \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

#define DEFINE_MAX_POOL_BACKWARD(NAME, T)                                                       \
    static void NAME(ag_size plane_in, ag_size plane_out, ag_size planes, const T *g,          \
                     const int64_t *idx, T *gx)                                                 \
    {                                                                                           \
        ag_size p, o;                                                                           \
        for (p = 0; p < planes; p++, gx += plane_in)                                            \
            for (o = 0; o < plane_out; o++) gx[*idx++] += *g++;                                 \
    }

/* The 2x2, stride 2, unpadded window of most networks: the same scan order (and so the same
   winner among ties and NaNs) without the general loop's clipping and strides. */
#define DEFINE_MAX_POOL_2X2(NAME, T)                                                            \
    static void NAME(const ag_window *w, ag_size planes, const T *restrict x, T *restrict y,   \
                     int64_t *restrict idx)                                                     \
    {                                                                                           \
        ag_size p, oh, ow, in_w = w->in_w, out_w = w->out_w;                                    \
        for (p = 0; p < planes; p++) {                                                          \
            const T *plane = x + p * w->in_h * in_w;                                            \
            for (oh = 0; oh < w->out_h; oh++, y += out_w, idx += out_w) {                       \
                const T *row0 = plane + 2 * oh * in_w, *row1 = row0 + in_w;                     \
                int64_t top = 2 * oh * in_w;                                                    \
                for (ow = 0; ow < out_w; ow++) {                                                \
                    T best = row0[2 * ow], v;                                                   \
                    int offset = 0, wins;  /* an int, or the loop does not vectorise */         \
                    v = row0[2 * ow + 1]; wins = WINS(v, best);                                 \
                    best = wins ? v : best; offset = wins ? 1 : offset;                         \
                    v = row1[2 * ow]; wins = WINS(v, best);                                     \
                    best = wins ? v : best; offset = wins ? (int)in_w : offset;                 \
                    v = row1[2 * ow + 1]; wins = WINS(v, best);                                 \
                    best = wins ? v : best; offset = wins ? (int)in_w + 1 : offset;             \
                    y[ow] = best;                                                               \
                    idx[ow] = top + 2 * ow + offset;                                            \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

DEFINE_MAX_POOL(max_pool_f32, float, -INFINITY)
DEFINE_MAX_POOL(max_pool_f64, double, -INFINITY)
DEFINE_MAX_POOL(max_pool_i64, int64_t, INT64_MIN)
DEFINE_MAX_POOL_2X2(max_pool_2x2_f32, float)
DEFINE_MAX_POOL_2X2(max_pool_2x2_f64, double)
DEFINE_MAX_POOL_2X2(max_pool_2x2_i64, int64_t)

static int is_plain_2x2(const ag_window *w)
{
    return w->kernel_h == 2 && w->kernel_w == 2 && w->stride_h == 2 && w->stride_w == 2
           && w->pad_h == 0 && w->pad_w == 0 && w->dilation_h == 1 && w->dilation_w == 1
           && 2 * w->out_h <= w->in_h && 2 * w->out_w <= w->in_w && w->in_w < INT_MAX;
}
DEFINE_MAX_POOL_BACKWARD(max_pool_backward_f32, float)
DEFINE_MAX_POOL_BACKWARD(max_pool_backward_f64, double)

void ag_max_pool(int dtype, const ag_window *w, ag_size planes, const void *x, void *y,
                 int64_t *indices)
{
    if (dtype == AG_I64) {
        if (is_plain_2x2(w))
            max_pool_2x2_i64(w, planes, (const int64_t *)x, (int64_t *)y, indices);
        else
            max_pool_i64(w, planes, (const int64_t *)x, (int64_t *)y, indices);
    } else if (is_plain_2x2(w)) {
        if (dtype == AG_F32) max_pool_2x2_f32(w, planes, (const float *)x, (float *)y, indices);
        else max_pool_2x2_f64(w, planes, (const double *)x, (double *)y, indices);
    } else if (dtype == AG_F32) {
        max_pool_f32(w, planes, (const float *)x, (float *)y, indices);
    } else {
        max_pool_f64(w, planes, (const double *)x, (double *)y, indices);
    }
}

void ag_max_pool_backward(int dtype, const ag_window *w, ag_size planes, const void *g,
                          const int64_t *indices, void *gx)
{
    ag_size in = w->in_h * w->in_w, out = w->out_h * w->out_w;
    if (dtype == AG_F32)
        max_pool_backward_f32(in, out, planes, (const float *)g, indices, (float *)gx);
    else
        max_pool_backward_f64(in, out, planes, (const double *)g, indices, (double *)gx);
}

/* ---- average pooling -----------------------------------------------------------------------

   The divisor of each window, as torch defines it: `divisor` when it is nonzero (the
   divisor_override, which may be negative), else the window's size counting padding but not the part of a ceil_mode
   window that hangs past the padding (count_include_pad), else only the input elements it
   covers. A window entirely in padding averages nothing and gives 0. */

static inline ag_size avg_divisor(ag_size h0, ag_size h1, ag_size w0, ag_size w1,
                                  const ag_window *w, int count_include_pad, ag_size divisor)
{
    if (divisor != 0) return divisor;
    if (count_include_pad) {
        ag_size hp = h1 < w->in_h + w->pad_h ? h1 : w->in_h + w->pad_h;
        ag_size wp = w1 < w->in_w + w->pad_w ? w1 : w->in_w + w->pad_w;
        return (hp - h0) * (wp - w0);
    }
    if (h0 < 0) h0 = 0;
    if (w0 < 0) w0 = 0;
    if (h1 > w->in_h) h1 = w->in_h;
    if (w1 > w->in_w) w1 = w->in_w;
    return (h1 - h0) * (w1 - w0);
}

#define DEFINE_AVG_POOL(NAME, T, FORWARD)                                                       \
    static void NAME(const ag_window *w, ag_size planes, int count_include_pad,                \
                     ag_size divisor, const T *src, T *dst)                                     \
    {                                                                                           \
        ag_size p, oh, ow, ih, iw, in = w->in_h * w->in_w;                                      \
        for (p = 0; p < planes; p++) {                                                          \
            const T *x_plane = FORWARD ? src + p * in : 0;                                      \
            T *gx_plane = FORWARD ? 0 : dst + p * in;                                           \
            for (oh = 0; oh < w->out_h; oh++)                                                   \
                for (ow = 0; ow < w->out_w; ow++) {                                             \
                    ag_size h0 = oh * w->stride_h - w->pad_h, h1 = h0 + w->kernel_h;            \
                    ag_size w0 = ow * w->stride_w - w->pad_w, w1 = w0 + w->kernel_w;            \
                    ag_size d = avg_divisor(h0, h1, w0, w1, w, count_include_pad, divisor);     \
                    if (h0 < 0) h0 = 0;                                                         \
                    if (w0 < 0) w0 = 0;                                                         \
                    if (h1 > w->in_h) h1 = w->in_h;                                             \
                    if (w1 > w->in_w) w1 = w->in_w;                                             \
                    if (FORWARD) {                                                              \
                        double s = 0;                                                           \
                        for (ih = h0; ih < h1; ih++)                                            \
                            for (iw = w0; iw < w1; iw++) s += x_plane[ih * w->in_w + iw];       \
                        *dst++ = (h0 < h1 && w0 < w1) ? (T)(s / d) : (T)0;                      \
                    } else {                                                                    \
                        T share = *src++ / (T)d;                                                \
                        for (ih = h0; ih < h1; ih++)                                            \
                            for (iw = w0; iw < w1; iw++) gx_plane[ih * w->in_w + iw] += share;  \
                    }                                                                           \
                }                                                                               \
        }                                                                                       \
    }

DEFINE_AVG_POOL(avg_pool_f32, float, 1)
DEFINE_AVG_POOL(avg_pool_f64, double, 1)
DEFINE_AVG_POOL(avg_pool_backward_f32, float, 0)
DEFINE_AVG_POOL(avg_pool_backward_f64, double, 0)

/* Integers sum in unsigned arithmetic, so that an overflow wraps (as torch's int64 sum does)
   instead of being undefined; INT64_MIN / -1, which traps, wraps as well. */
static void avg_pool_i64(const ag_window *w, ag_size planes, int count_include_pad,
                         ag_size divisor, const int64_t *x, int64_t *y)
{
    ag_size p, oh, ow, ih, iw, in = w->in_h * w->in_w;
    for (p = 0; p < planes; p++) {
        const int64_t *plane = x + p * in;
        for (oh = 0; oh < w->out_h; oh++)
            for (ow = 0; ow < w->out_w; ow++) {
                ag_size h0 = oh * w->stride_h - w->pad_h, h1 = h0 + w->kernel_h;
                ag_size w0 = ow * w->stride_w - w->pad_w, w1 = w0 + w->kernel_w;
                ag_size d = avg_divisor(h0, h1, w0, w1, w, count_include_pad, divisor);
                uint64_t s = 0;
                if (h0 < 0) h0 = 0;
                if (w0 < 0) w0 = 0;
                if (h1 > w->in_h) h1 = w->in_h;
                if (w1 > w->in_w) w1 = w->in_w;
                if (h0 >= h1 || w0 >= w1) {
                    *y++ = 0;
                    continue;
                }
                for (ih = h0; ih < h1; ih++)
                    for (iw = w0; iw < w1; iw++) s += (uint64_t)plane[ih * w->in_w + iw];
                *y++ = d == -1 ? (int64_t)(0 - s) : (int64_t)s / d;
            }
    }
}

void ag_avg_pool(int dtype, const ag_window *w, ag_size planes, int count_include_pad,
                 ag_size divisor, const void *x, void *y)
{
    if (dtype == AG_I64)
        avg_pool_i64(w, planes, count_include_pad, divisor, (const int64_t *)x, (int64_t *)y);
    else if (dtype == AG_F32)
        avg_pool_f32(w, planes, count_include_pad, divisor, (const float *)x, (float *)y);
    else
        avg_pool_f64(w, planes, count_include_pad, divisor, (const double *)x, (double *)y);
}

void ag_avg_pool_backward(int dtype, const ag_window *w, ag_size planes, int count_include_pad,
                          ag_size divisor, const void *g, void *gx)
{
    if (dtype == AG_F32)
        avg_pool_backward_f32(w, planes, count_include_pad, divisor, (const float *)g,
                              (float *)gx);
    else
        avg_pool_backward_f64(w, planes, count_include_pad, divisor, (const double *)g,
                              (double *)gx);
}

/* ---- adaptive average pooling --------------------------------------------------------------

   Output cell i of a side of length `out` averages input rows floor(i * in / out) up to
   ceil((i + 1) * in / out): windows cover the input and neighbours overlap by at most one. */

static inline ag_size adaptive_start(ag_size i, ag_size in, ag_size out)
{
    return (i * in) / out;
}

static inline ag_size adaptive_end(ag_size i, ag_size in, ag_size out)
{
    return ((i + 1) * in + out - 1) / out;
}

#define DEFINE_ADAPTIVE_AVG_POOL(NAME, T, FORWARD)                                              \
    static void NAME(const ag_window *w, ag_size planes, const T *src, T *dst)                  \
    {                                                                                           \
        ag_size p, oh, ow, ih, iw, in = w->in_h * w->in_w;                                      \
        for (p = 0; p < planes; p++) {                                                          \
            const T *x_plane = FORWARD ? src + p * in : 0;                                      \
            T *gx_plane = FORWARD ? 0 : dst + p * in;                                           \
            for (oh = 0; oh < w->out_h; oh++) {                                                 \
                ag_size h0 = adaptive_start(oh, w->in_h, w->out_h);                             \
                ag_size h1 = adaptive_end(oh, w->in_h, w->out_h);                               \
                for (ow = 0; ow < w->out_w; ow++) {                                             \
                    ag_size w0 = adaptive_start(ow, w->in_w, w->out_w);                         \
                    ag_size w1 = adaptive_end(ow, w->in_w, w->out_w);                           \
                    ag_size d = (h1 - h0) * (w1 - w0);                                          \
                    if (FORWARD) {                                                              \
                        double s = 0;                                                           \
                        for (ih = h0; ih < h1; ih++)                                            \
                            for (iw = w0; iw < w1; iw++) s += x_plane[ih * w->in_w + iw];       \
                        *dst++ = (T)(s / d);                                                    \
                    } else {                                                                    \
                        T share = *src++ / (T)d;                                                \
                        for (ih = h0; ih < h1; ih++)                                            \
                            for (iw = w0; iw < w1; iw++) gx_plane[ih * w->in_w + iw] += share;  \
                    }                                                                           \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

DEFINE_ADAPTIVE_AVG_POOL(adaptive_avg_pool_f32, float, 1)
DEFINE_ADAPTIVE_AVG_POOL(adaptive_avg_pool_f64, double, 1)
DEFINE_ADAPTIVE_AVG_POOL(adaptive_avg_pool_backward_f32, float, 0)
DEFINE_ADAPTIVE_AVG_POOL(adaptive_avg_pool_backward_f64, double, 0)

void ag_adaptive_avg_pool(int dtype, const ag_window *w, ag_size planes, const void *x, void *y)
{
    if (dtype == AG_F32) adaptive_avg_pool_f32(w, planes, (const float *)x, (float *)y);
    else adaptive_avg_pool_f64(w, planes, (const double *)x, (double *)y);
}

void ag_adaptive_avg_pool_backward(int dtype, const ag_window *w, ag_size planes, const void *g,
                                   void *gx)
{
    if (dtype == AG_F32)
        adaptive_avg_pool_backward_f32(w, planes, (const float *)g, (float *)gx);
    else
        adaptive_avg_pool_backward_f64(w, planes, (const double *)g, (double *)gx);
}
