package org.lungnodules.training;

import java.io.IOException;
import java.nio.file.Path;

import org.lungnodules.nn.Networks;

/**
 * Builds the {@link SampleSource}s that the train-* commands feed to a {@link TrainingLoop}, from a
 * data folder. The datasets live elsewhere (the data side of training); the commands find the
 * implementation with {@link java.util.ServiceLoader} (a {@code META-INF/services} entry naming a
 * class with a public no-argument constructor), so this package does not depend on it.
 */
public interface TrainingDataFactory {

	enum Split { TRAIN, VALIDATION }

	/**
	 * @param kind cls (nodule / non-nodule chunks), mal (benign / malignant chunks) or seg (7×64×64 crops)
	 * @param data the dataset folder (LUNA16 layout)
	 * @param epochSize samples per training epoch, 0 for the dataset's natural size (validation: its natural size)
	 * @param seed the sample order and augmentation seed
	 * @param workers threads the source may use to prepare its cache
	 */
	SampleSource open(Networks.Kind kind, Path data, Split split, int epochSize, long seed, int workers) throws IOException;

	/** The installed factory, or a clear error naming what is missing. */
	static TrainingDataFactory find() {
		for (TrainingDataFactory f : java.util.ServiceLoader.load(TrainingDataFactory.class, TrainingDataFactory.class.getClassLoader()))
			return f;
		throw new IllegalStateException("No training data source is installed (no " + TrainingDataFactory.class.getName() +
			" service): this build cannot read training datasets");
	}
}
