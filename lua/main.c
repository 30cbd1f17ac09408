/* STUB (the command replaces this file) */
#include <stdio.h>
#include "bpflua.h"
int main(int argc, char **argv) { fprintf(stderr, "bpflua %s: not built yet\n", BPFLUA_VERSION); return 2; }
