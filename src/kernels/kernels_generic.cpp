// The portable kernels (the compiler's baseline instruction set).
#define NALU_KERNEL_NAMESPACE baseline
#define NALU_KERNEL_NAME "generic"
#include "kernels_impl.h"
