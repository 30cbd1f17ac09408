/* repl.c - the interactive session (being written). */
#include <stdlib.h>

#include "bl_lua.h"

int bl_repl(lua_State *L, const struct bl_line_editor *ed, FILE *out)
{
    char *line;
    while ((line = ed->readline(ed->ud, "bpflua> ")) != NULL)
        free(line);
    return 0;
}
