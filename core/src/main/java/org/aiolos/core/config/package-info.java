/**
 * Configuration checked before it is stored or applied, for the OSGi side of Aiolos and
 * the bundles built on it: {@link org.aiolos.core.config.ConfigSchema} (a factory PID's
 * fields, read from its Metatype by {@link org.aiolos.core.config.MetatypeSchemas}: the one
 * source of names, types and defaults) finds every error of a configuration at once,
 * {@link org.aiolos.core.config.Assignments} reads the shell's {@code key=value} words, and
 * {@link org.aiolos.core.config.ConfigStore} stores a checked configuration in Config
 * Admin and in its {@code .cfg} file under the folder FileInstall watches, or puts the
 * previous one back.
 */
@Export
@Version("1.0.0")
package org.aiolos.core.config;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
