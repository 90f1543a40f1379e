/*
 * Grad mode lives in C so that the op path reads it with one load, and per thread because
 * torch's no_grad() in one thread never affects another.
 */
#include "kernels.h"

#if defined(_MSC_VER)
#define AG_THREAD_LOCAL __declspec(thread)
#else
#define AG_THREAD_LOCAL __thread
#endif

/* 0 means enabled, so that a new thread starts with grad mode on without initialisation. */
static AG_THREAD_LOCAL int grad_disabled = 0;

int ag_grad_enabled(void) { return !grad_disabled; }

void ag_set_grad_enabled(int enabled) { grad_disabled = !enabled; }
