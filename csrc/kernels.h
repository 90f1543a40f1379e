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

/* dtype codes: must match DT_F32 / DT_F64 in _kernels.pxd */
enum { AG_F32 = 0, AG_F64 = 1 };

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

#endif
