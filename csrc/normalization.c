/*
 * Batch normalization over an (N, C, L) buffer, per channel c: the M = N * L values
 * x[n][c][l]. Statistics are accumulated in double for both dtypes, so a float32 batch of many
 * values loses no precision to the running sum; mean and invstd (1 / sqrt(var + eps)) are
 * passed around as double arrays of C values.
 *
 * Why C: numpy needs about ten whole-array passes (and as many temporaries) for the forward and
 * backward formulas; these loops need two passes each and no temporaries.
 */
#include <math.h>

#include "kernels.h"

#define DEFINE_BN_STATS(NAME, T)                                                                \
    static void NAME(ag_size N, ag_size C, ag_size L, const T *x, double *mean, double *var)    \
    {                                                                                           \
        ag_size n, c, l;                                                                        \
        double M = (double)(N * L);                                                             \
        for (c = 0; c < C; c++) {                                                               \
            double s = 0, ss = 0;                                                               \
            for (n = 0; n < N; n++) {                                                           \
                const T *p = x + (n * C + c) * L;                                               \
                for (l = 0; l < L; l++) s += p[l];                                              \
            }                                                                                   \
            double m = s / M;                                                                   \
            /* two-pass variance: sum of squared deviations, no cancellation */                 \
            for (n = 0; n < N; n++) {                                                           \
                const T *p = x + (n * C + c) * L;                                               \
                for (l = 0; l < L; l++) {                                                       \
                    double d = p[l] - m;                                                        \
                    ss += d * d;                                                                \
                }                                                                               \
            }                                                                                   \
            mean[c] = m;                                                                        \
            var[c] = ss / M;                                                                    \
        }                                                                                       \
    }

/* y = (x - mean) * scale + shift with scale = invstd * weight and shift = bias per channel. */
#define DEFINE_BN_APPLY(NAME, T)                                                                \
    static void NAME(ag_size N, ag_size C, ag_size L, const T *x, const double *mean,          \
                     const double *scale, const double *shift, T *y)                            \
    {                                                                                           \
        ag_size n, c, l;                                                                        \
        for (n = 0; n < N; n++)                                                                 \
            for (c = 0; c < C; c++) {                                                           \
                const T *p = x + (n * C + c) * L;                                               \
                T *q = y + (n * C + c) * L;                                                     \
                /* centre first: folding the mean into the shift loses digits in float32 when \
                   the mean is large against the spread */                                      \
                T m = (T)mean[c], a = (T)scale[c], b = (T)shift[c];                             \
                for (l = 0; l < L; l++) q[l] = (p[l] - m) * a + b;                              \
            }                                                                                   \
    }

/*
 * With xhat = (x - mean) * invstd, per channel:
 *   sum_g = sum(g), sum_gx = sum(g * xhat)        (the bias and weight gradients)
 *   training: gx = scale * (g - sum_g / M - xhat * sum_gx / M)
 *   eval:     gx = scale * g                      (the statistics are constants)
 * where scale = weight * invstd. gx may be NULL when the input needs no gradient.
 */
#define DEFINE_BN_BACKWARD(NAME, T)                                                             \
    static void NAME(ag_size N, ag_size C, ag_size L, const T *g, const T *x,                  \
                     const double *mean, const double *invstd, const double *scale,            \
                     int training, T *gx, double *sum_g, double *sum_gx)                        \
    {                                                                                           \
        ag_size n, c, l;                                                                        \
        double M = (double)(N * L);                                                             \
        for (c = 0; c < C; c++) {                                                               \
            double s = 0, sx = 0, m = mean[c];                                                  \
            for (n = 0; n < N; n++) {                                                           \
                const T *gp = g + (n * C + c) * L, *xp = x + (n * C + c) * L;                   \
                for (l = 0; l < L; l++) {                                                       \
                    s += gp[l];                                                                 \
                    sx += gp[l] * (xp[l] - m);                                                  \
                }                                                                               \
            }                                                                                   \
            sum_g[c] = s;                                                                       \
            sum_gx[c] = sx * invstd[c];                                                         \
            if (!gx) continue;                                                                  \
            T a = (T)scale[c];                                                                  \
            T mean_g = training ? (T)(s / M) : 0;                                               \
            /* xhat * sum_gx / M = (x - mean) * invstd^2 * sx / M */                             \
            T k = training ? (T)(invstd[c] * invstd[c] * sx / M) : 0;                           \
            for (n = 0; n < N; n++) {                                                           \
                const T *gp = g + (n * C + c) * L, *xp = x + (n * C + c) * L;                   \
                T *out = gx + (n * C + c) * L;                                                  \
                for (l = 0; l < L; l++)                                                         \
                    out[l] = a * (gp[l] - mean_g - (xp[l] - (T)m) * k);                         \
            }                                                                                   \
        }                                                                                       \
    }

DEFINE_BN_STATS(bn_stats_f32, float)
DEFINE_BN_STATS(bn_stats_f64, double)
DEFINE_BN_APPLY(bn_apply_f32, float)
DEFINE_BN_APPLY(bn_apply_f64, double)
DEFINE_BN_BACKWARD(bn_backward_f32, float)
DEFINE_BN_BACKWARD(bn_backward_f64, double)

void ag_batch_norm_stats(int dtype, ag_size N, ag_size C, ag_size L, const void *x,
                         double *mean, double *var)
{
    if (dtype == AG_F32) bn_stats_f32(N, C, L, (const float *)x, mean, var);
    else bn_stats_f64(N, C, L, (const double *)x, mean, var);
}

void ag_batch_norm_apply(int dtype, ag_size N, ag_size C, ag_size L, const void *x,
                         const double *mean, const double *scale, const double *shift, void *y)
{
    if (dtype == AG_F32) bn_apply_f32(N, C, L, (const float *)x, mean, scale, shift, (float *)y);
    else bn_apply_f64(N, C, L, (const double *)x, mean, scale, shift, (double *)y);
}

void ag_batch_norm_backward(int dtype, ag_size N, ag_size C, ag_size L, const void *g,
                            const void *x, const double *mean, const double *invstd,
                            const double *scale, int training, void *gx, double *sum_g,
                            double *sum_gx)
{
    if (dtype == AG_F32)
        bn_backward_f32(N, C, L, (const float *)g, (const float *)x, mean, invstd, scale,
                        training, (float *)gx, sum_g, sum_gx);
    else
        bn_backward_f64(N, C, L, (const double *)g, (const double *)x, mean, invstd, scale,
                        training, (double *)gx, sum_g, sum_gx);
}
