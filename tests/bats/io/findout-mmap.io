# findout.bats with every file mapped in windows.
MMUTILS_IO=mmap
suite=findout
