package memory

import "runtime/debug"

func debugFreeOSMemory() { debug.FreeOSMemory() }
