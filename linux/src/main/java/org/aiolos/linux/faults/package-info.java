/**
 * The test hook that arms system-call failures ({@link org.aiolos.linux.faults.Faults}).
 * Not exported (neither by the module descriptor nor by the bundle): only
 * {@code org.aiolos.linux}'s own wrappers consult it, and tests of the modules above reach it
 * with {@code --add-exports org.aiolos.linux/org.aiolos.linux.faults=...} at test compile
 * time (they run on the class path).
 */
package org.aiolos.linux.faults;
