# The mmfind and mmread cases of property.bats, with every file
# read with pread into buffers.
MMUTILS_IO=read
suite=property
filter='^mm(find|read) agrees with'
