package org.lungnodules.fiji;

import ij.ImagePlus;

import org.lungnodules.analysis.AnalysisResult;
import org.lungnodules.ct.CtVolume;

/**
 * A command whose result ImageJ shows as {@link ImageJDisplay} shows an analysis: the Nodules table, the
 * circles on the CT's overlay, RoiManager entries (with a display) and optionally the label image. Analyze CT
 * and Open Results both go through it, so a run opened again looks as it did when it was made.
 */
interface ShowsNodules {

	/** What to show, or null when there is nothing (a cohort run without scans, say). */
	AnalysisResult result();

	/** Candidates at or above it are nodules. */
	double threshold();

	/** Whether demo models made the result (every row then says so). */
	boolean usedDemoModels();

	/** The image the command worked on, which gets the overlay; null when it read a file. */
	ImagePlus image();

	/** The CT read from a file, shown with the overlay when no image was given; may be null. */
	CtVolume volume();

	/** Whether the labelled components should be shown too. */
	boolean wantsLabelImage();
}
