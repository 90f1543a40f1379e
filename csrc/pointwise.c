/*
 * Elementwise kernels for float32 and float64. Each public function switches once on the op and
 * the dtype, then runs a tight loop the compiler can vectorise; the two dtypes are generated
 * from one body by DEFINE_* macros so that a formula is written exactly once.
 */
#include <math.h>

#include "kernels.h"

#define LN2 0.693147180559945309417232121458176568
#define LN10 2.30258509299404568401799145468436421

/* ---- unary forward ------------------------------------------------------------------------ */

#define DEFINE_UNARY_FORWARD(NAME, T, EXP, LOG, SQRT, SIN, COS, TANH, FABS)                     \
    static void NAME(int op, const T *x, T *y, ag_size n)                                       \
    {                                                                                           \
        ag_size i;                                                                              \
        switch (op) {                                                                           \
        case AG_NEG: for (i = 0; i < n; i++) y[i] = -x[i]; break;                               \
        case AG_ABS: for (i = 0; i < n; i++) y[i] = FABS(x[i]); break;                          \
        case AG_EXP: for (i = 0; i < n; i++) y[i] = EXP(x[i]); break;                           \
        case AG_LOG: for (i = 0; i < n; i++) y[i] = LOG(x[i]); break;                           \
        case AG_LOG2: for (i = 0; i < n; i++) y[i] = LOG(x[i]) / (T)LN2; break;                 \
        case AG_LOG10: for (i = 0; i < n; i++) y[i] = LOG(x[i]) / (T)LN10; break;               \
        case AG_SQRT: for (i = 0; i < n; i++) y[i] = SQRT(x[i]); break;                         \
        case AG_RSQRT: for (i = 0; i < n; i++) y[i] = (T)1 / SQRT(x[i]); break;                 \
        case AG_SIN: for (i = 0; i < n; i++) y[i] = SIN(x[i]); break;                           \
        case AG_COS: for (i = 0; i < n; i++) y[i] = COS(x[i]); break;                           \
        case AG_TANH: for (i = 0; i < n; i++) y[i] = TANH(x[i]); break;                         \
        case AG_SIGMOID: for (i = 0; i < n; i++) y[i] = (T)1 / ((T)1 + EXP(-x[i])); break;      \
        /* relu keeps NaN, as torch does: NaN > 0 is false but the input is NaN, not 0 */       \
        case AG_RELU: for (i = 0; i < n; i++) y[i] = (x[i] > 0 || x[i] != x[i]) ? x[i] : 0; break; \
        case AG_RECIPROCAL: for (i = 0; i < n; i++) y[i] = (T)1 / x[i]; break;                  \
        }                                                                                       \
    }

DEFINE_UNARY_FORWARD(unary_forward_f32, float, expf, logf, sqrtf, sinf, cosf, tanhf, fabsf)
DEFINE_UNARY_FORWARD(unary_forward_f64, double, exp, log, sqrt, sin, cos, tanh, fabs)

void ag_unary_forward(int op, int dtype, const void *x, void *y, ag_size n)
{
    if (dtype == AG_F32) unary_forward_f32(op, (const float *)x, (float *)y, n);
    else unary_forward_f64(op, (const double *)x, (double *)y, n);
}

/* ---- unary backward ----------------------------------------------------------------------- */

/* sign(x) with sign(0) = sign(NaN) = 0: the derivative torch uses for abs */
#define SIGN(T, v) ((v) > 0 ? (T)1 : ((v) < 0 ? (T)-1 : (T)0))

#define DEFINE_UNARY_BACKWARD(NAME, T, SIN, COS)                                                \
    static void NAME(int op, const T *g, const T *x, const T *y, T *gx, ag_size n)              \
    {                                                                                           \
        ag_size i;                                                                              \
        switch (op) {                                                                           \
        case AG_NEG: for (i = 0; i < n; i++) gx[i] = -g[i]; break;                              \
        case AG_ABS: for (i = 0; i < n; i++) gx[i] = g[i] * SIGN(T, x[i]); break;               \
        case AG_EXP: for (i = 0; i < n; i++) gx[i] = g[i] * y[i]; break;                        \
        case AG_LOG: for (i = 0; i < n; i++) gx[i] = g[i] / x[i]; break;                        \
        case AG_LOG2: for (i = 0; i < n; i++) gx[i] = g[i] / (x[i] * (T)LN2); break;            \
        case AG_LOG10: for (i = 0; i < n; i++) gx[i] = g[i] / (x[i] * (T)LN10); break;          \
        case AG_SQRT: for (i = 0; i < n; i++) gx[i] = g[i] / (2 * y[i]); break;                 \
        case AG_RSQRT: for (i = 0; i < n; i++) gx[i] = (T)-0.5 * g[i] * y[i] * y[i] * y[i]; break; \
        case AG_SIN: for (i = 0; i < n; i++) gx[i] = g[i] * COS(x[i]); break;                   \
        case AG_COS: for (i = 0; i < n; i++) gx[i] = -g[i] * SIN(x[i]); break;                  \
        case AG_TANH: for (i = 0; i < n; i++) gx[i] = g[i] * ((T)1 - y[i] * y[i]); break;       \
        case AG_SIGMOID: for (i = 0; i < n; i++) gx[i] = g[i] * ((T)1 - y[i]) * y[i]; break;    \
        /* both operands loaded first, so the compiler emits a blend instead of a branch;    \
           written as `y <= 0` so that a NaN output passes the gradient, as torch's does */   \
        case AG_RELU: for (i = 0; i < n; i++) { T gi = g[i]; gx[i] = y[i] <= 0 ? 0 : gi; } break; \
        case AG_RECIPROCAL: for (i = 0; i < n; i++) gx[i] = -g[i] * y[i] * y[i]; break;         \
        }                                                                                       \
    }

DEFINE_UNARY_BACKWARD(unary_backward_f32, float, sinf, cosf)
DEFINE_UNARY_BACKWARD(unary_backward_f64, double, sin, cos)

void ag_unary_backward(int op, int dtype, const void *g, const void *x, const void *y, void *gx,
                       ag_size n)
{
    if (dtype == AG_F32)
        unary_backward_f32(op, (const float *)g, (const float *)x, (const float *)y, (float *)gx, n);
    else
        unary_backward_f64(op, (const double *)g, (const double *)x, (const double *)y,
                           (double *)gx, n);
}

/* ---- binary ------------------------------------------------------------------------------- */

#define DEFINE_BINARY(NAME, T)                                                                  \
    static void NAME(int op, const T *a, const T *b, T *out, ag_size n)                         \
    {                                                                                           \
        ag_size i;                                                                              \
        switch (op) {                                                                           \
        case AG_ADD: for (i = 0; i < n; i++) out[i] = a[i] + b[i]; break;                       \
        case AG_SUB: for (i = 0; i < n; i++) out[i] = a[i] - b[i]; break;                       \
        case AG_MUL: for (i = 0; i < n; i++) out[i] = a[i] * b[i]; break;                       \
        case AG_DIV: for (i = 0; i < n; i++) out[i] = a[i] / b[i]; break;                       \
        }                                                                                       \
    }

#define DEFINE_BINARY_SCALAR(NAME, T)                                                           \
    static void NAME(int op, const T *a, T s, T *out, ag_size n)                                \
    {                                                                                           \
        ag_size i;                                                                              \
        switch (op) {                                                                           \
        case AG_ADD: for (i = 0; i < n; i++) out[i] = a[i] + s; break;                          \
        case AG_SUB: for (i = 0; i < n; i++) out[i] = a[i] - s; break;                          \
        case AG_MUL: for (i = 0; i < n; i++) out[i] = a[i] * s; break;                          \
        case AG_DIV: for (i = 0; i < n; i++) out[i] = a[i] / s; break;                          \
        case AG_RSUB: for (i = 0; i < n; i++) out[i] = s - a[i]; break;                         \
        case AG_RDIV: for (i = 0; i < n; i++) out[i] = s / a[i]; break;                         \
        }                                                                                       \
    }

DEFINE_BINARY(binary_f32, float)
DEFINE_BINARY(binary_f64, double)
DEFINE_BINARY_SCALAR(binary_scalar_f32, float)
DEFINE_BINARY_SCALAR(binary_scalar_f64, double)

void ag_binary(int op, int dtype, const void *a, const void *b, void *out, ag_size n)
{
    if (dtype == AG_F32) binary_f32(op, (const float *)a, (const float *)b, (float *)out, n);
    else binary_f64(op, (const double *)a, (const double *)b, (double *)out, n);
}

void ag_binary_scalar(int op, int dtype, const void *a, double s, void *out, ag_size n)
{
    if (dtype == AG_F32) binary_scalar_f32(op, (const float *)a, (float)s, (float *)out, n);
    else binary_scalar_f64(op, (const double *)a, s, (double *)out, n);
}

#define DEFINE_DIV_BACKWARD_OTHER(NAME, T)                                                      \
    static void NAME(const T *g, const T *a, const T *b, T *gb, ag_size n)                      \
    {                                                                                           \
        for (ag_size i = 0; i < n; i++) gb[i] = -g[i] * a[i] / (b[i] * b[i]);                   \
    }

DEFINE_DIV_BACKWARD_OTHER(div_backward_other_f32, float)
DEFINE_DIV_BACKWARD_OTHER(div_backward_other_f64, double)

void ag_div_backward_other(int dtype, const void *g, const void *a, const void *b, void *gb,
                           ag_size n)
{
    if (dtype == AG_F32)
        div_backward_other_f32((const float *)g, (const float *)a, (const float *)b, (float *)gb, n);
    else
        div_backward_other_f64((const double *)g, (const double *)a, (const double *)b,
                               (double *)gb, n);
}

/* ---- accumulation, reduction, fill -------------------------------------------------------- */

void ag_accumulate(int dtype, void *dst, const void *src, ag_size n)
{
    ag_size i;
    if (dtype == AG_F32) {
        float *d = (float *)dst;
        const float *s = (const float *)src;
        for (i = 0; i < n; i++) d[i] += s[i];
    } else {
        double *d = (double *)dst;
        const double *s = (const double *)src;
        for (i = 0; i < n; i++) d[i] += s[i];
    }
}

double ag_sum_all(int dtype, const void *x, ag_size n)
{
    double total = 0;
    ag_size i;
    if (dtype == AG_F32) {
        const float *p = (const float *)x;
        for (i = 0; i < n; i++) total += p[i];
    } else {
        const double *p = (const double *)x;
        for (i = 0; i < n; i++) total += p[i];
    }
    return total;
}

void ag_fill(int dtype, void *dst, double value, ag_size n)
{
    ag_size i;
    if (dtype == AG_F32) {
        float *d = (float *)dst, v = (float)value;
        for (i = 0; i < n; i++) d[i] = v;
    } else {
        double *d = (double *)dst;
        for (i = 0; i < n; i++) d[i] = value;
    }
}
