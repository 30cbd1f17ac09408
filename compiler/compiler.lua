-- STUB (the compiler replaces this file)
return {}
