# Installation (`cmake --install`) and Debian packages (`cpack -G DEB`, amd64 or arm64 by the target
# processor, so a cross build packages for the board).
#
# Installed: the `pice` binary, the example configs (/usr/share/pice/examples), an edge config that the
# package owns as a conffile (/etc/pice/edge.toml), a templated systemd unit (pice@<config>.service)
# and the deployment notes. Maintainer scripts create the `pice` system user the unit runs as.
# The layout is Debian's (/usr, configs in /etc), the same for `cmake --install` as for the package.
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Installation prefix" FORCE)
endif()
include(GNUInstallDirs)

install(TARGETS pice RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES config/all-in-one.toml config/cloud.toml config/edge.toml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pice/examples)
# With the prefix /usr this is /etc/pice: where the unit looks and where dpkg keeps conffiles.
install(FILES config/edge.toml DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/pice)
install(FILES config/systemd/pice@.service DESTINATION lib/systemd/system)
install(FILES README.md docs/DEPLOY.md docs/ARCHITECTURE.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pice)
set(CPACK_PACKAGE_VENDOR "PICE developers")
set(CPACK_PACKAGE_CONTACT "PICE developers <pice@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "progressive LLM inference over a cloud node and edge boards")
set(CPACK_PACKAGE_DESCRIPTION "A cloud LLM writes a short sketch of each answer; small models on edge boards\n\
expand its points in parallel. One binary, pice, runs a cloud, edge, or all-in-one node from a TOML file.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Library dependencies come from the binary itself (dpkg-shlibdeps); adduser runs in postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/cmake/packaging/postinst ${PROJECT_SOURCE_DIR}/cmake/packaging/prerm
    ${PROJECT_SOURCE_DIR}/cmake/packaging/postrm ${PROJECT_SOURCE_DIR}/cmake/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# CPack would ask dpkg for the build machine's architecture; a cross build packages for its target.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
endif()
include(CPack)
