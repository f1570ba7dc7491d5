# Finds QuickFIX (Debian: libquickfix-dev) and defines QuickFIX::QuickFIX.
#
# Debian's quickfix.pc is stale (it says 1.14.3 and asks for -lxml2), but
# `ldd libquickfix.so` shows the library needs only pthread, OpenSSL and the
# C/C++ runtimes, and it names OpenSSL itself (DT_NEEDED). So the link line
# is just -lquickfix plus -pthread, because the headers call pthread inline.

find_path(QuickFIX_INCLUDE_DIR NAMES quickfix/Message.h)
find_library(QuickFIX_LIBRARY NAMES quickfix)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(QuickFIX REQUIRED_VARS QuickFIX_LIBRARY QuickFIX_INCLUDE_DIR)
mark_as_advanced(QuickFIX_INCLUDE_DIR QuickFIX_LIBRARY)

if(QuickFIX_FOUND AND NOT TARGET QuickFIX::QuickFIX)
  find_package(Threads REQUIRED)
  add_library(QuickFIX::QuickFIX UNKNOWN IMPORTED)
  # Imported include directories are SYSTEM, which keeps QuickFIX's own
  # warnings (auto_ptr, unused parameters) out of our -Werror build.
  set_target_properties(QuickFIX::QuickFIX PROPERTIES
    IMPORTED_LOCATION "${QuickFIX_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${QuickFIX_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
