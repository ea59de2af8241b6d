# findout.bats with every file read with pread into buffers.
MMUTILS_IO=read
suite=findout
