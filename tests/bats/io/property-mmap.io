# The mmfind and mmread cases of property.bats, with every file
# mapped in windows.
MMUTILS_IO=mmap
suite=property
filter='^mm(find|read) agrees with'
