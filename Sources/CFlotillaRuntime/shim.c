#ifndef _GNU_SOURCE
#error "_GNU_SOURCE must come from Package.swift"
#endif
#include "CFlotillaRuntime.h"
int flotilla_shim_version(void) { return 1; }
