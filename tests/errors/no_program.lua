local X = 3
-- error: 1:1: this file defines no program
