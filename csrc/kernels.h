/*
 * Plain-C kernels of autograd_c: loops over contiguous float32/float64 buffers.
 *
 * No Python here. The Cython core calls these only after it has checked that every buffer is
 * C-contiguous, of the dtype named by `dtype`, and `n` elements long, and that `out` does not
 * overlap an input unless the function says it may. The declarations in autograd_c/_kernels.pxd
 * must match this file.
 *
 * Why not numpy ufuncs: for the small tensors of fine-grained training loops numpy's per-call
 * dispatch (type resolution, iterator setup, error-state checks) costs several times the
 * arithmetic. These loops cost only the arithmetic.
 */
#ifndef AUTOGRAD_C_KERNELS_H
#define AUTOGRAD_C_KERNELS_H

#include <stdint.h>

typedef int64_t ag_size;

/* dtype codes: must match DT_F32 / DT_F64 in _kernels.pxd. AG_I64 is taken only by the
   forward pooling kernels (ag_max_pool, ag_avg_pool), which integer tensors reach. */
enum { AG_F32 = 0, AG_F64 = 1, AG_I64 = 2 };

/* Unary ops with a closed-form derivative; must match the UnaryOp enum in _kernels.pxd. */
enum {
    AG_NEG = 0, AG_ABS, AG_EXP, AG_LOG, AG_LOG2, AG_LOG10, AG_SQRT, AG_RSQRT,
    AG_SIN, AG_COS, AG_TANH, AG_SIGMOID, AG_RELU, AG_RECIPROCAL, AG_UNARY_COUNT
};

/* Binary arithmetic; the R* forms put the scalar on the left (s - x, s / x). */
enum { AG_ADD = 0, AG_SUB, AG_MUL, AG_DIV, AG_RSUB, AG_RDIV };

/* y = op(x). `y` may be `x` (in place). */
void ag_unary_forward(int op, int dtype, const void *x, void *y, ag_size n);

/*
 * gx = g * op'(x), written with whichever of the input `x` and the output `y` gives the cheaper
 * and more accurate formula (tanh uses y, sin uses x). Both must be valid buffers.
 */
void ag_unary_backward(int op, int dtype, const void *g, const void *x, const void *y,
                       void *gx, ag_size n);

/* out = a op b, elementwise, same length. AG_R* are not valid here. */
void ag_binary(int op, int dtype, const void *a, const void *b, void *out, ag_size n);

/* out = a op s (or s op a for AG_RSUB / AG_RDIV), s converted to the buffer's dtype. */
void ag_binary_scalar(int op, int dtype, const void *a, double s, void *out, ag_size n);

/* gb = -g * a / (b * b): the gradient of a / b with respect to b. */
void ag_div_backward_other(int dtype, const void *g, const void *a, const void *b, void *gb,
                           ag_size n);

/* dst += src. Used by the engine to sum the gradients that two edges send to one input. */
void ag_accumulate(int dtype, void *dst, const void *src, ag_size n);

/* Sum of all elements, accumulated in double for both dtypes. */
double ag_sum_all(int dtype, const void *x, ag_size n);

/* dst[i] = value for all i. */
void ag_fill(int dtype, void *dst, double value, ag_size n);

/* Grad mode: a thread-local flag, on by default in every thread (torch's semantics). */
int ag_grad_enabled(void);
void ag_set_grad_enabled(int enabled);

/* ---- sliding windows (csrc/window.c) ----------------------------------------------------- */

/* The geometry of a 2-D sliding window over one (in_h x in_w) plane. Invariants the caller
   checks: every size is positive except the pads (>= 0), and out_h/out_w are the output sizes
   these parameters give (so every window starts inside the padded input). Must match
   ag_window in _kernels.pxd. */
typedef struct {
    ag_size in_h, in_w;             /* input plane */
    ag_size out_h, out_w;           /* output plane */
    ag_size kernel_h, kernel_w;
    ag_size stride_h, stride_w;
    ag_size pad_h, pad_w;           /* implicit padding on each side */
    ag_size dilation_h, dilation_w; /* 1 for pooling kernels that have no dilation */
} ag_window;

/* cols (channels*kernel_h*kernel_w, batch*out_h*out_w) from x (batch, channels, in_h, in_w). */
void ag_im2col(int dtype, const ag_window *w, ag_size batch, ag_size channels, const void *x,
               void *cols);
/* x += the adjoint of im2col applied to cols; x must start zeroed for a plain col2im. The
   entries of cols that im2col fills from padding may be overwritten with zeros. */
void ag_col2im(int dtype, const ag_window *w, ag_size batch, ag_size channels, void *cols,
               void *x);

/* y and flat in-plane argmax indices over `planes` planes; padding never wins, NaN does. */
void ag_max_pool(int dtype, const ag_window *w, ag_size planes, const void *x, void *y,
                 int64_t *indices);
/* gx[indices] += g, plane by plane. */
void ag_max_pool_backward(int dtype, const ag_window *w, ag_size planes, const void *g,
                          const int64_t *indices, void *gx);

/* A nonzero divisor overrides the window size as divisor (torch's divisor_override). int64
   sums wrap around and divide with truncation, as torch's integer kernel does. */
void ag_avg_pool(int dtype, const ag_window *w, ag_size planes, int count_include_pad,
                 ag_size divisor, const void *x, void *y);
void ag_avg_pool_backward(int dtype, const ag_window *w, ag_size planes, int count_include_pad,
                          ag_size divisor, const void *g, void *gx);

/* Only in/out sizes of w are read. */
void ag_adaptive_avg_pool(int dtype, const ag_window *w, ag_size planes, const void *x, void *y);
void ag_adaptive_avg_pool_backward(int dtype, const ag_window *w, ag_size planes, const void *g,
                                   void *gx);

/* ---- batch normalization (csrc/normalization.c), over (N, C, L) buffers ------------------ */

/* Per-channel mean and biased variance, in double. */
void ag_batch_norm_stats(int dtype, ag_size N, ag_size C, ag_size L, const void *x,
                         double *mean, double *var);
/* y = (x - mean) * scale + shift per channel; y may be x. */
void ag_batch_norm_apply(int dtype, ag_size N, ag_size C, ag_size L, const void *x,
                         const double *mean, const double *scale, const double *shift, void *y);
/* Per-channel sum(g) and sum(g * xhat), and gx (skipped when gx is NULL); see the .c file. */
void ag_batch_norm_backward(int dtype, ag_size N, ag_size C, ag_size L, const void *g,
                            const void *x, const double *mean, const double *invstd,
                            const double *scale, int training, void *gx, double *sum_g,
                            double *sum_gx);

/* ---- optimizer steps (csrc/optim.c): p, g and the state buffers are n elements each -------- */

/* Must match ag_sgd_options in _kernels.pxd. */
typedef struct {
    double lr, momentum, dampening, weight_decay;
    int nesterov, maximize;
    int first_step;     /* the momentum buffer is new: it becomes the gradient, undamped */
} ag_sgd_options;

/* Must match ag_adam_options in _kernels.pxd. */
typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    double step_size;               /* lr / (1 - beta1 ** step) */
    double bias_correction2_sqrt;   /* sqrt(1 - beta2 ** step) */
    int decoupled, maximize;        /* AdamW's weight decay; ascend instead of descend */
} ag_adam_options;

/* Must match ag_rmsprop_options in _kernels.pxd. */
typedef struct {
    double lr, alpha, eps, weight_decay, momentum;
    int maximize;
} ag_rmsprop_options;

/* Must match ag_adagrad_options in _kernels.pxd. */
typedef struct {
    double clr;                     /* lr / (1 + (step - 1) * lr_decay) */
    double eps, weight_decay;
    int maximize;
} ag_adagrad_options;

/* buf is read only with momentum != 0 (and written then). */
void ag_sgd_step(int dtype, ag_size n, void *p, const void *g, void *buf,
                 const ag_sgd_options *o);
/* vmax is NULL unless amsgrad. */
void ag_adam_step(int dtype, ag_size n, void *p, const void *g, void *m, void *v, void *vmax,
                  const ag_adam_options *o);
/* ga is NULL unless centered, buf NULL unless momentum > 0. */
void ag_rmsprop_step(int dtype, ag_size n, void *p, const void *g, void *sq, void *ga, void *buf,
                     const ag_rmsprop_options *o);
void ag_adagrad_step(int dtype, ag_size n, void *p, const void *g, void *sum,
                     const ag_adagrad_options *o);

#endif
