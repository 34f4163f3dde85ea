package org.lungnodules.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.stream.Stream;

/**
 * What says that a scan on disk has not changed, for every kind of scan: a file's size and
 * modification time, plus its separate voxel file's (a {@code .mhd} with its {@code .raw}); for a
 * DICOM series, which is a folder of files, the number of files and the folder's time (a file added
 * or removed) and the files' total size and latest time (a file rewritten).
 * <p>
 * The four numbers fill the two (size, time) pairs of the chunk cache's stamp, so its file format
 * is the same for every kind of scan.
 */
record SeriesStamp(long firstSize, long firstTime, long secondSize, long secondTime) {

	/** The stamp of a scan: a file (with {@code dataFile} its separate voxel file, or null) or a series folder. */
	static SeriesStamp of(Path scan, Path dataFile) throws IOException {
		BasicFileAttributes a = Files.readAttributes(scan, BasicFileAttributes.class);
		if (a.isDirectory()) {
			List<Path> files;
			try (Stream<Path> s = Files.list(scan)) {
				files = s.filter(Files::isRegularFile).toList();
			}
			long total = 0, latest = Long.MIN_VALUE;
			for (Path f : files) {
				BasicFileAttributes fa = Files.readAttributes(f, BasicFileAttributes.class);
				total += fa.size();
				latest = Math.max(latest, fa.lastModifiedTime().toMillis());
			}
			return new SeriesStamp(files.size(), a.lastModifiedTime().toMillis(), total, files.isEmpty() ? -1 : latest);
		}
		long ds = -1, dt = -1;
		if (dataFile != null) {
			BasicFileAttributes d = Files.readAttributes(dataFile, BasicFileAttributes.class);
			ds = d.size();
			dt = d.lastModifiedTime().toMillis();
		}
		return new SeriesStamp(a.size(), a.lastModifiedTime().toMillis(), ds, dt);
	}

	static SeriesStamp of(Path scan) throws IOException {
		return of(scan, ChunkCache.dataFileOf(scan));
	}

	@Override
	public String toString() {
		return firstSize + ":" + firstTime + ":" + secondSize + ":" + secondTime;
	}
}
