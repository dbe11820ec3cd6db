/* version.h -- the version every meso executable reports. */
#ifndef MESO_VERSION_H
#define MESO_VERSION_H
#define MESO_VERSION "0.1.0"
#endif
