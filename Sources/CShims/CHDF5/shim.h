#include <hdf5.h>

// HDF5's predefined type and property-list ids are macros over library globals, which Swift cannot import:
// these return them. Used only by the Keras HDF5 reader (Sources/Formats/KerasH5.swift).
static inline hid_t effnet_h5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t effnet_h5_c_string(void) { return H5T_C_S1; }
static inline hid_t effnet_h5_default(void) { return H5P_DEFAULT; }
static inline hid_t effnet_h5_all(void) { return H5S_ALL; }
static inline hid_t effnet_h5_file_access(void) { return H5P_FILE_ACCESS; }
static inline size_t effnet_h5_variable(void) { return H5T_VARIABLE; }
// Errors become return values the reader reports in its own words; HDF5 prints nothing to stderr. The library
// is not torn down at exit (the OS reclaims it): a failed open of a truncated file leaves library-internal ids
// behind, and HDF5's own teardown then prints "infinite loop closing library" on stderr.
static inline void effnet_h5_silence(void) {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}
static inline unsigned effnet_h5_read_only(void) { return H5F_ACC_RDONLY; }
