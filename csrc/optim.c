/*
 * Optimizer updates: one fused loop per parameter, in place, instead of the chain of whole-array
 * tensor ops (each with its temporary) that the update formulas read as. The formulas are
 * torch.optim's single-tensor ones, operation for operation, in the parameter's dtype, so the
 * trajectories agree with torch's to rounding.
 */
#include <math.h>

#include "kernels.h"

/*
 * SGD. d = +-g (+ weight_decay * p); with momentum, buf = d on the first step, else
 * buf = momentum * buf + (1 - dampening) * d, and d = buf (or d + momentum * buf for Nesterov);
 * then p -= lr * d.
 */
#define DEFINE_SGD(NAME, T)                                                                     \
    static void NAME(ag_size n, T *p, const T *g, T *buf, const ag_sgd_options *o)             \
    {                                                                                           \
        ag_size i;                                                                              \
        T lr = (T)o->lr, wd = (T)o->weight_decay, mom = (T)o->momentum;                          \
        T keep = (T)(1 - o->dampening);                                                         \
        for (i = 0; i < n; i++) {                                                               \
            T d = o->maximize ? -g[i] : g[i];                                                   \
            if (o->weight_decay != 0) d = d + wd * p[i];                                        \
            if (o->momentum != 0) {                                                             \
                T b = o->first_step ? d : buf[i] * mom + keep * d;                              \
                buf[i] = b;                                                                     \
                d = o->nesterov ? d + mom * b : b;                                              \
            }                                                                                   \
            p[i] = p[i] - lr * d;                                                               \
        }                                                                                       \
    }

/*
 * Adam / AdamW. d = +-g; decoupled weight decay scales p by (1 - lr * wd) first, classic weight
 * decay adds wd * p to d; m += (d - m) * (1 - beta1); v = v * beta2 + (1 - beta2) * d * d;
 * with amsgrad vmax = max(vmax, v) replaces v below;
 * p -= step_size * m / (sqrt(v) / bias_correction2_sqrt + eps).
 */
#define DEFINE_ADAM(NAME, T, SQRT)                                                              \
    static void NAME(ag_size n, T *p, const T *g, T *m, T *v, T *vmax,                          \
                     const ag_adam_options *o)                                                  \
    {                                                                                           \
        ag_size i;                                                                              \
        T wd = (T)o->weight_decay, decay = (T)(1 - o->lr * o->weight_decay);                    \
        T one_minus_b1 = (T)(1 - o->beta1), b2 = (T)o->beta2, one_minus_b2 = (T)(1 - o->beta2); \
        T step_size = (T)o->step_size, bc2 = (T)o->bias_correction2_sqrt, eps = (T)o->eps;     \
        for (i = 0; i < n; i++) {                                                               \
            T d = o->maximize ? -g[i] : g[i];                                                   \
            if (o->weight_decay != 0) {                                                         \
                if (o->decoupled) p[i] = p[i] * decay;                                          \
                else d = d + wd * p[i];                                                         \
            }                                                                                   \
            m[i] = m[i] + (d - m[i]) * one_minus_b1;                                            \
            v[i] = v[i] * b2 + one_minus_b2 * d * d;                                            \
            T second = v[i];                                                                    \
            if (vmax) {                                                                         \
                if (v[i] > vmax[i] || v[i] != v[i]) vmax[i] = v[i];                             \
                second = vmax[i];                                                               \
            }                                                                                   \
            p[i] = p[i] - step_size * (m[i] / (SQRT(second) / bc2 + eps));                      \
        }                                                                                       \
    }

/*
 * RMSprop. d = +-g (+ weight_decay * p); sq = sq * alpha + (1 - alpha) * d * d; centered,
 * ga = lerp(ga, d, 1 - alpha) and avg = sqrt(sq - ga * ga), else avg = sqrt(sq); avg += eps;
 * with momentum buf = buf * momentum + d / avg and p -= lr * buf, else p -= lr * d / avg.
 */
#define DEFINE_RMSPROP(NAME, T, SQRT)                                                           \
    static void NAME(ag_size n, T *p, const T *g, T *sq, T *ga, T *buf,                         \
                     const ag_rmsprop_options *o)                                               \
    {                                                                                           \
        ag_size i;                                                                              \
        T lr = (T)o->lr, wd = (T)o->weight_decay, mom = (T)o->momentum, eps = (T)o->eps;        \
        T alpha = (T)o->alpha, w = (T)(1 - o->alpha), w_rest = (T)1 - w;                        \
        /* torch's choice of lerp form, to round alike: from ga for a weight under 1/2 */       \
        int from_ga = (w < 0 ? -w : w) < (T)0.5;                                                \
        for (i = 0; i < n; i++) {                                                               \
            T d = o->maximize ? -g[i] : g[i];                                                   \
            if (o->weight_decay != 0) d = d + wd * p[i];                                        \
            sq[i] = sq[i] * alpha + w * d * d;                                                  \
            T avg;                                                                              \
            if (ga) {                                                                           \
                ga[i] = from_ga ? ga[i] + w * (d - ga[i]) : d - (d - ga[i]) * w_rest;           \
                avg = SQRT(sq[i] - ga[i] * ga[i]);                                              \
            } else {                                                                            \
                avg = SQRT(sq[i]);                                                              \
            }                                                                                   \
            avg = avg + eps;                                                                    \
            if (buf) {                                                                          \
                buf[i] = buf[i] * mom + d / avg;                                                \
                p[i] = p[i] - lr * buf[i];                                                      \
            } else {                                                                            \
                p[i] = p[i] - lr * d / avg;                                                     \
            }                                                                                   \
        }                                                                                       \
    }

/*
 * Adagrad. d = +-g (+ weight_decay * p); sum += d * d; p -= clr * d / (sqrt(sum) + eps), where
 * clr = lr / (1 + (step - 1) * lr_decay).
 */
#define DEFINE_ADAGRAD(NAME, T, SQRT)                                                           \
    static void NAME(ag_size n, T *p, const T *g, T *sum, const ag_adagrad_options *o)          \
    {                                                                                           \
        ag_size i;                                                                              \
        T clr = (T)o->clr, wd = (T)o->weight_decay, eps = (T)o->eps;                            \
        for (i = 0; i < n; i++) {                                                               \
            T d = o->maximize ? -g[i] : g[i];                                                   \
            if (o->weight_decay != 0) d = d + wd * p[i];                                        \
            sum[i] = sum[i] + d * d;                                                            \
            p[i] = p[i] - clr * d / (SQRT(sum[i]) + eps);                                       \
        }                                                                                       \
    }

DEFINE_SGD(sgd_f32, float)
DEFINE_SGD(sgd_f64, double)
DEFINE_ADAM(adam_f32, float, sqrtf)
DEFINE_ADAM(adam_f64, double, sqrt)
DEFINE_RMSPROP(rmsprop_f32, float, sqrtf)
DEFINE_RMSPROP(rmsprop_f64, double, sqrt)
DEFINE_ADAGRAD(adagrad_f32, float, sqrtf)
DEFINE_ADAGRAD(adagrad_f64, double, sqrt)

void ag_sgd_step(int dtype, ag_size n, void *p, const void *g, void *buf,
                 const ag_sgd_options *o)
{
    if (dtype == AG_F32) sgd_f32(n, (float *)p, (const float *)g, (float *)buf, o);
    else sgd_f64(n, (double *)p, (const double *)g, (double *)buf, o);
}

void ag_adam_step(int dtype, ag_size n, void *p, const void *g, void *m, void *v, void *vmax,
                  const ag_adam_options *o)
{
    if (dtype == AG_F32)
        adam_f32(n, (float *)p, (const float *)g, (float *)m, (float *)v, (float *)vmax, o);
    else
        adam_f64(n, (double *)p, (const double *)g, (double *)m, (double *)v, (double *)vmax,
                 o);
}

void ag_rmsprop_step(int dtype, ag_size n, void *p, const void *g, void *sq, void *ga, void *buf,
                     const ag_rmsprop_options *o)
{
    if (dtype == AG_F32)
        rmsprop_f32(n, (float *)p, (const float *)g, (float *)sq, (float *)ga, (float *)buf, o);
    else
        rmsprop_f64(n, (double *)p, (const double *)g, (double *)sq, (double *)ga, (double *)buf,
                    o);
}

void ag_adagrad_step(int dtype, ag_size n, void *p, const void *g, void *sum,
                     const ag_adagrad_options *o)
{
    if (dtype == AG_F32) adagrad_f32(n, (float *)p, (const float *)g, (float *)sum, o);
    else adagrad_f64(n, (double *)p, (const double *)g, (double *)sum, o);
}
