package org.lungnodules.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PyTorch checkpoints, read and written without PyTorch and without executing any pickle code.
 * <p>
 * API contract (other packages code against these names; the implementation fills them in):
 * <ul>
 * <li>{@code TorchCheckpoint.read(Path)}: legacy (.state) or zip-format file.</li>
 * <li>{@code root()}: the unpickled top-level object as plain Java: Map (LinkedHashMap), List,
 * String, Long, Double, Boolean, null, {@link Tensor}.</li>
 * <li>{@code stateDict()}: the tensors of {@code model_state} / {@code state_dict}, or the root
 * itself if it is a bare state dict; keys in file order.</li>
 * <li>{@code TorchCheckpoint.write(Path, Map root)}: zip format readable by
 * {@code torch.load(path, weights_only=True)}; written atomically.</li>
 * </ul>
 */
public final class TorchCheckpoint {

	private final Path file;
	private final Object root;

	TorchCheckpoint(Path file, Object root) {
		this.file = file;
		this.root = root;
	}

	public Path file() { return file; }
	public Object root() { return root; }

	public static TorchCheckpoint read(Path file) throws IOException {
		throw new UnsupportedOperationException("checkpoint reader: not written yet");
	}

	public LinkedHashMap<String, Tensor> stateDict() throws IOException {
		throw new UnsupportedOperationException("checkpoint reader: not written yet");
	}

	public static void write(Path file, Map<String, ?> root) throws IOException {
		throw new UnsupportedOperationException("checkpoint writer: not written yet");
	}
}
