package org.lungnodules.fiji;

import java.awt.Color;
import java.util.ArrayList;
import java.util.List;

import javax.swing.SwingUtilities;

import ij.gui.Plot;
import ij.gui.PlotWindow;

import org.lungnodules.training.Metrics;

/**
 * A live ImageJ plot of a training run: loss and the best-checkpoint metric per epoch, training and
 * validation. Updated on the event thread; only used when there is a display.
 */
final class TrainingPlot {

	private final String title, scoreMetric;
	private final List<double[]> trn = new ArrayList<>(), val = new ArrayList<>(); // {epoch, loss, score}
	private PlotWindow window;

	TrainingPlot(String runName, String scoreMetric) {
		this.title = "Training " + runName;
		this.scoreMetric = scoreMetric;
	}

	/** Called on the training thread after each split of each epoch. */
	void add(Metrics.Result r) {
		Double score = r.values().get(scoreMetric);
		double[] point = { r.epoch(), r.get("loss/all"), score == null ? Double.NaN : score };
		synchronized (this) {
			(r.split().equals("val") ? val : trn).add(point);
		}
		SwingUtilities.invokeLater(this::redraw);
	}

	private synchronized void redraw() {
		Plot plot = new Plot(title, "epoch", "loss / " + scoreMetric);
		series(plot, trn, 1, Color.BLUE, "trn loss");
		series(plot, val, 1, Color.RED, "val loss");
		series(plot, trn, 2, new Color(0x66, 0x99, 0xff), "trn " + scoreMetric);
		series(plot, val, 2, new Color(0xff, 0x88, 0x88), "val " + scoreMetric);
		plot.setLimitsToFit(false);
		plot.addLegend(null);
		if (window == null || window.isClosed()) window = (PlotWindow) plot.show();
		else window.drawPlot(plot);
	}

	private static void series(Plot plot, List<double[]> points, int column, Color color, String label) {
		if (points.isEmpty()) return;
		double[] x = new double[points.size()], y = new double[points.size()];
		for (int i = 0; i < x.length; i++) {
			x[i] = points.get(i)[0];
			y[i] = points.get(i)[column];
		}
		plot.setColor(color);
		plot.addPoints(x, y, Plot.CONNECTED_CIRCLES);
		plot.setLabel(-1, label);
	}
}
