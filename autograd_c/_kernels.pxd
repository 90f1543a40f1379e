# The C kernels of csrc/kernels.h. Every enum value and signature here must match that header.
from libc.stdint cimport int64_t

cdef extern from "kernels.h" nogil:
    ctypedef int64_t ag_size

    # dtype codes (must match AG_F32 / AG_F64 / AG_I64)
    int AG_F32
    int AG_F64
    int AG_I64

    # unary ops (must match the enum in kernels.h, same order)
    int AG_NEG
    int AG_ABS
    int AG_EXP
    int AG_LOG
    int AG_LOG2
    int AG_LOG10
    int AG_SQRT
    int AG_RSQRT
    int AG_SIN
    int AG_COS
    int AG_TANH
    int AG_SIGMOID
    int AG_RELU
    int AG_RECIPROCAL
    int AG_UNARY_COUNT

    # binary ops (must match)
    int AG_ADD
    int AG_SUB
    int AG_MUL
    int AG_DIV
    int AG_RSUB
    int AG_RDIV

    void ag_unary_forward(int op, int dtype, const void *x, void *y, ag_size n)
    void ag_unary_backward(int op, int dtype, const void *g, const void *x, const void *y,
                           void *gx, ag_size n)
    void ag_binary(int op, int dtype, const void *a, const void *b, void *out, ag_size n)
    void ag_binary_scalar(int op, int dtype, const void *a, double s, void *out, ag_size n)
    void ag_div_backward_other(int dtype, const void *g, const void *a, const void *b, void *gb,
                               ag_size n)
    void ag_accumulate(int dtype, void *dst, const void *src, ag_size n)
    double ag_sum_all(int dtype, const void *x, ag_size n)
    void ag_fill(int dtype, void *dst, double value, ag_size n)
    int ag_grad_enabled()
    void ag_set_grad_enabled(int enabled)

    # sliding windows (csrc/window.c); the struct must match ag_window field for field
    ctypedef struct ag_window:
        ag_size in_h, in_w
        ag_size out_h, out_w
        ag_size kernel_h, kernel_w
        ag_size stride_h, stride_w
        ag_size pad_h, pad_w
        ag_size dilation_h, dilation_w

    void ag_im2col(int dtype, const ag_window *w, ag_size batch, ag_size channels, const void *x,
                   void *cols)
    void ag_col2im(int dtype, const ag_window *w, ag_size batch, ag_size channels,
                   void *cols, void *x)
    void ag_max_pool(int dtype, const ag_window *w, ag_size planes, const void *x, void *y,
                     int64_t *indices)
    void ag_max_pool_backward(int dtype, const ag_window *w, ag_size planes, const void *g,
                              const int64_t *indices, void *gx)
    void ag_avg_pool(int dtype, const ag_window *w, ag_size planes, int count_include_pad,
                     ag_size divisor, const void *x, void *y)
    void ag_avg_pool_backward(int dtype, const ag_window *w, ag_size planes,
                              int count_include_pad, ag_size divisor, const void *g, void *gx)
    void ag_adaptive_avg_pool(int dtype, const ag_window *w, ag_size planes, const void *x,
                              void *y)
    void ag_adaptive_avg_pool_backward(int dtype, const ag_window *w, ag_size planes,
                                       const void *g, void *gx)

    # batch normalization (csrc/normalization.c)
    void ag_batch_norm_stats(int dtype, ag_size N, ag_size C, ag_size L, const void *x,
                             double *mean, double *var)
    void ag_batch_norm_apply(int dtype, ag_size N, ag_size C, ag_size L, const void *x,
                             const double *mean, const double *scale, const double *shift,
                             void *y)
    void ag_batch_norm_backward(int dtype, ag_size N, ag_size C, ag_size L, const void *g,
                                const void *x, const double *mean, const double *invstd,
                                const double *scale, int training, void *gx, double *sum_g,
                                double *sum_gx)

    # optimizer steps (csrc/optim.c); the structs must match field for field
    ctypedef struct ag_sgd_options:
        double lr, momentum, dampening, weight_decay
        int nesterov, maximize
        int first_step

    ctypedef struct ag_adam_options:
        double lr, beta1, beta2, eps, weight_decay
        double step_size
        double bias_correction2_sqrt
        int decoupled, maximize

    ctypedef struct ag_rmsprop_options:
        double lr, alpha, eps, weight_decay, momentum
        int maximize

    ctypedef struct ag_adagrad_options:
        double clr
        double eps, weight_decay
        int maximize

    void ag_sgd_step(int dtype, ag_size n, void *p, const void *g, void *buf,
                     const ag_sgd_options *o)
    void ag_adam_step(int dtype, ag_size n, void *p, const void *g, void *m, void *v, void *vmax,
                      const ag_adam_options *o)
    void ag_rmsprop_step(int dtype, ag_size n, void *p, const void *g, void *sq, void *ga,
                         void *buf, const ag_rmsprop_options *o)
    void ag_adagrad_step(int dtype, ag_size n, void *p, const void *g, void *sum,
                         const ag_adagrad_options *o)
