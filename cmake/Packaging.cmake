# Install rules for the operations kit, and CPack configuration for a .deb.
#
# Include from the top-level CMakeLists.txt, after add_subdirectory(userspace)
# (which installs the binary to ${prefix}/sbin):
#   include(Packaging)
#
#   cmake --install build [--prefix /usr/local]
#   cpack -G DEB --config build/CPackConfig.cmake -B build/packages
#
# Installed (relative to the prefix; the .deb uses /usr):
#   sbin/slableak                                   (userspace/CMakeLists.txt)
#   lib/systemd/system/slableak-exporter.service    ExecStart= follows the prefix
#   share/man/man8/slableak.8.gz
#   share/bash-completion/completions/slableak
#   share/slableak/grafana/slableak.json, slableak-fleet.json
#   share/slableak/prometheus/slableak-rules.yml (+ .test.yml)
#   share/doc/slableak/{operations,runbook}.md

include(GNUInstallDirs)

set(_deploy ${PROJECT_SOURCE_DIR}/deploy)

# --- systemd unit: ExecStart= must name the installed binary, so the prefix
# is substituted at install time (under CPack that is the packaging prefix,
# /usr, with the staging directory in DESTDIR).
set(_unit_src ${_deploy}/systemd/slableak-exporter.service)
install(CODE "
  file(READ \"${_unit_src}\" _unit)
  string(REPLACE \"ExecStart=/usr/sbin/slableak \" \"ExecStart=\${CMAKE_INSTALL_PREFIX}/sbin/slableak \" _unit \"\${_unit}\")
  file(WRITE \"${CMAKE_BINARY_DIR}/deploy/slableak-exporter.service\" \"\${_unit}\")
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES \"${CMAKE_BINARY_DIR}/deploy/slableak-exporter.service\")
" COMPONENT slableak)

# --- man page, compressed as Debian expects (plain if gzip is missing).
find_program(GZIP_EXECUTABLE gzip)
if(GZIP_EXECUTABLE)
  set(_man_gz ${CMAKE_BINARY_DIR}/deploy/slableak.8.gz)
  add_custom_command(OUTPUT ${_man_gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/deploy
    COMMAND sh -c "'${GZIP_EXECUTABLE}' -9nc '${_deploy}/man/slableak.8' > '${_man_gz}'"
    DEPENDS ${_deploy}/man/slableak.8
    COMMENT "Compressing slableak.8"
    VERBATIM)
  add_custom_target(slableak_man ALL DEPENDS ${_man_gz})
  install(FILES ${_man_gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT slableak)
else()
  install(FILES ${_deploy}/man/slableak.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT slableak)
endif()

install(FILES ${_deploy}/completion/slableak.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME slableak COMPONENT slableak)
install(FILES ${_deploy}/grafana/slableak.json ${_deploy}/grafana/slableak-fleet.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/slableak/grafana COMPONENT slableak)
install(FILES ${_deploy}/prometheus/slableak-rules.yml ${_deploy}/prometheus/slableak-rules.test.yml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/slableak/prometheus COMPONENT slableak)
install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/runbook.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT slableak)

# --- CPack: one .deb named slableak.
set(SLABLEAK_PACKAGE_MAINTAINER "slableak maintainers <slableak@localhost>"
    CACHE STRING "Maintainer field of the .deb")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME slableak)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${SLABLEAK_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "which kernel stacks hold slab memory (kmalloc-2k leaks), as reports and Prometheus metrics")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # slableak_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"${CPACK_PACKAGE_DESCRIPTION_SUMMARY}
 slableak attaches CO-RE BPF programs to the kmem tracepoints, keeps the
 allocations of selected slab caches (kmalloc-2k by default) that are not
 freed yet, and attributes them to the kernel stacks that made them.
 'slableak snapshot' and 'slableak top' report on the host; 'slableak export'
 writes metrics for node_exporter's textfile collector. Includes a hardened
 systemd unit (not enabled on install), a Grafana dashboard and Prometheus
 alert rules in /usr/share/slableak.
 Needs a kernel with BTF (CONFIG_DEBUG_INFO_BTF=y).")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "prometheus-node-exporter")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus")
# The .deb's architecture is the binary's, not the build host's (CPack asks
# dpkg, which answers amd64 on the x86-64 host of an arm64 cross build).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
endif()
# A static binary (SLABLEAK_STATIC=ON) depends on nothing; a dynamic one on
# what dpkg-shlibdeps finds (libbpf1, libelf1, zlib1g, libstdc++6, libc6).
if(SLABLEAK_STATIC)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
else()
  find_program(DPKG_SHLIBDEPS_EXECUTABLE dpkg-shlibdeps)
  if(DPKG_SHLIBDEPS_EXECUTABLE AND NOT CMAKE_CROSSCOMPILING)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  else()
    message(STATUS "dpkg-shlibdeps not found (package dpkg-dev) or cross build: .deb Depends: set by hand")
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "libbpf1, libelf1, zlib1g, libstdc++6, libc6")
  endif()
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_deploy}/debian/postinst ${_deploy}/debian/prerm ${_deploy}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)

include(CPack)
