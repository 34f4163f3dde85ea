package org.lungnodules.nn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;

import ai.djl.ndarray.NDManager;

import org.lungnodules.io.Tensor;
import org.lungnodules.io.TorchCheckpoint;

/**
 * Reads a model file for a given network role, for every command that takes a model: the book's
 * legacy {@code .state} files and zip-format {@code .pt} files alike. The weights are checked against
 * the network here, so a wrong file fails at once with a message naming it, not later in the middle
 * of an analysis.
 */
public final class ModelFiles {

	private ModelFiles() {}

	/**
	 * The state dict of {@code file}, verified to fit a network of {@code kind}.
	 *
	 * @throws NoSuchFileException if the file does not exist (message names it and the role)
	 * @throws org.lungnodules.io.CheckpointException if it is not a readable checkpoint
	 * @throws WeightMismatchException if its tensors do not fit the network (every problem listed)
	 */
	public static LinkedHashMap<String, Tensor> load(Path file, Networks.Kind kind) throws IOException {
		String role = describe(kind);
		if (!Files.isRegularFile(file))
			throw new NoSuchFileException(file.toString(), null, "the " + role + " model file does not exist");
		LinkedHashMap<String, Tensor> stateDict = TorchCheckpoint.read(file).stateDict();
		// A throwaway network checks names, shapes and types without touching the caller's networks.
		Devices.engine();
		try (NDManager manager = NDManager.newBaseManager(ai.djl.Device.cpu(), "PyTorch")) {
			StateDicts.load(Networks.create(kind, manager), stateDict, file + " (as the " + role + ")");
		}
		return stateDict;
	}

	/** Adds the verified network from {@code file} to an inference builder. */
	public static Inference.Builder addTo(Inference.Builder builder, Networks.Kind kind, Path file) throws IOException {
		return builder.network(kind, load(file, kind), file.toString());
	}

	static String describe(Networks.Kind kind) {
		switch (kind) {
			case CLS: return "nodule classifier";
			case MAL: return "malignancy classifier";
			case SEG: return "segmentation U-Net";
			default: return kind.name().toLowerCase(Locale.ROOT);
		}
	}
}
