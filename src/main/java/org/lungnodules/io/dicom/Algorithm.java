package org.lungnodules.io.dicom;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The software that produced a Segmentation or Structured Report, as the DICOM objects identify it.
 *
 * @param name algorithm name, for example {@code "Lung Nodules for Fiji"} (at most 64 characters)
 * @param version software version (at most 64 characters)
 * @param models the networks used, each with its SHA-256
 */
public record Algorithm(String name, String version, List<Model> models) {

	private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

	/**
	 * A model the algorithm ran.
	 *
	 * @param role what the model does, for example {@code "segmentation"}, {@code "nodule classifier"}
	 * @param sha256 lower-case hexadecimal SHA-256 of its weights file
	 */
	public record Model(String role, String sha256) {
		public Model {
			if (!SHA256.matcher(sha256).matches()) throw new IllegalArgumentException("Not a lower-case hex SHA-256: " + sha256);
			if (role.isBlank() || role.contains("\\")) throw new IllegalArgumentException("Bad model role: " + role);
		}
	}

	public Algorithm {
		if (name.isBlank() || name.length() > 64 || name.contains("\\")) throw new IllegalArgumentException("Bad algorithm name: " + name);
		if (version.isBlank() || version.length() > 64 || version.contains("\\")) throw new IllegalArgumentException("Bad algorithm version: " + version);
		models = List.copyOf(models);
	}

	/** {@code role sha256=HEX; role sha256=HEX} for AlgorithmParameters (LT). */
	String parameters() {
		StringBuilder s = new StringBuilder();
		for (Model m : models) s.append(s.length() == 0 ? "" : "; ").append(m.role()).append(" sha256=").append(m.sha256());
		return s.toString();
	}
}
