package org.lungnodules.fiji;

import java.awt.Color;
import java.util.Locale;

import org.lungnodules.analysis.FrocEvaluation;
import org.lungnodules.analysis.MalignancyEvaluation;
import org.lungnodules.analysis.RocAnalysis;

import ij.gui.Plot;
import ij.measure.ResultsTable;

/**
 * Shows an evaluation in a desktop ImageJ: the numbers as a ResultsTable, the curves as an
 * interactive ImageJ Plot (zoomable, its data listable and savable). Only called when a display
 * exists; the command's files are the same either way.
 */
final class EvaluationDisplay {

	private EvaluationDisplay() {}

	static void showFroc(FrocEvaluation.Result r, String name) {
		FrocEvaluation.Bootstrap b = r.bootstrap();
		ResultsTable t = new ResultsTable();
		for (int i = 0; i < FrocEvaluation.FP_LEVELS.length; i++) {
			t.incrementCounter();
			t.addValue("FPs/scan", FrocEvaluation.FP_LEVEL_NAMES.get(i));
			t.addValue("Sensitivity", r.sensitivity()[i]);
			if (b != null) {
				t.addValue("CI low", b.lowAt(i));
				t.addValue("CI high", b.highAt(i));
			}
		}
		t.incrementCounter();
		t.addValue("FPs/scan", "CPM");
		t.addValue("Sensitivity", r.cpm());
		if (b != null) {
			t.addValue("CI low", b.cpmLow());
			t.addValue("CI high", b.cpmHigh());
		}
		t.setPrecision(4);
		t.show("FROC " + name);

		int n = 601;
		double[] xs = new double[n], ys = new double[n];
		for (int i = 0; i < n; i++) {
			xs[i] = Math.pow(2, -3 + 6.0 * i / (n - 1));
			ys[i] = r.curve().sensitivityAt(xs[i]);
		}
		Plot plot = new Plot("FROC " + name, "Average false positives per scan", "Sensitivity");
		plot.setLogScaleX();
		plot.setLimits(0.125, 8, 0, 1);
		if (b != null) {
			plot.setColor(new Color(0x1f, 0x5f, 0xb4, 110));
			plot.setLineWidth(1);
			plot.addPoints(b.levels(), b.low(), Plot.LINE);
			plot.addPoints(b.levels(), b.high(), Plot.LINE);
		}
		plot.setColor(new Color(0x1f, 0x5f, 0xb4));
		plot.setLineWidth(2);
		plot.addPoints(xs, ys, Plot.LINE);
		plot.addPoints(FrocEvaluation.FP_LEVELS, r.sensitivity(), Plot.CIRCLE);
		plot.setLegend(b != null ? "95% low\t95% high\tFROC, CPM " + fmt(r.cpm()) + "\tCPM points"
			: "FROC, CPM " + fmt(r.cpm()) + "\tCPM points", Plot.AUTO_POSITION);
		plot.show();
	}

	static void showMalignancy(MalignancyEvaluation.Result r, String scoreName) {
		ResultsTable t = new ResultsTable();
		add(t, scoreName, r.modelInterval());
		add(t, "diameter_mm", r.diameterInterval());
		t.setPrecision(4);
		t.show("Malignancy AUC");

		Plot plot = new Plot("Malignancy ROC", "False positive rate", "True positive rate");
		plot.setLimits(0, 1, 0, 1);
		plot.setColor(Color.GRAY);
		plot.addPoints(new double[] { 0, 1 }, new double[] { 0, 1 }, Plot.LINE);
		plot.setLineWidth(2);
		plot.setColor(new Color(0x1f, 0x5f, 0xb4));
		plot.addPoints(r.model().fpr(), r.model().tpr(), Plot.LINE);
		plot.setColor(new Color(0xe0, 0x6c, 0x00));
		plot.addPoints(r.diameter().fpr(), r.diameter().tpr(), Plot.LINE);
		plot.setLegend("chance\t" + scoreName + " AUC " + fmt(r.model().auc()) + "\tdiameter AUC " + fmt(r.diameter().auc()),
			Plot.AUTO_POSITION);
		plot.show();
	}

	private static void add(ResultsTable t, String name, RocAnalysis.Interval i) {
		t.incrementCounter();
		t.addValue("Score", name);
		t.addValue("AUC", i.auc());
		t.addValue("CI low", i.low());
		t.addValue("CI high", i.high());
	}

	private static String fmt(double v) {
		return String.format(Locale.ROOT, "%.3f", v);
	}
}
