// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
int main(void) { puts("cowtrace: placeholder"); return 0; }
