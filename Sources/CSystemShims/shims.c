#include "CSystemShims.h"
int lr_shims_version(void) { return 1; }
