#include "textflag.h"

// func invalid()
TEXT ·invalid(SB), NOSPLIT|NOFRAME, $0-0
	WORD $0x0000000d
	RET
