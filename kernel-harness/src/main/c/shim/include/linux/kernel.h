/* <linux/kernel.h>: provided by kh/prelude.h. */
#include "kh/pr_fmt.h"
