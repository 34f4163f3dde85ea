package org.lungnodules.analysis;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;

import javax.imageio.ImageIO;

/**
 * The evaluation's figures, drawn with java.awt into images (no display needed, so it works headless):
 * the FROC curve with its bootstrap band on a log₂ axis from 1/8 to 8 FPs per scan, and ROC curves.
 */
public final class Plots {

	private Plots() {}

	static final int WIDTH = 1000, HEIGHT = 720;
	private static final Color CURVE = new Color(0x1f, 0x5f, 0xb4), SECOND = new Color(0xe0, 0x6c, 0x00),
		GRID = new Color(0xdd, 0xdd, 0xdd), TEXT = new Color(0x22, 0x22, 0x22);
	private static final String[] FP_TICK_LABELS = { "1/8", "1/4", "1/2", "1", "2", "4", "8" };

	/** A ROC curve to draw, with its legend text. */
	public record RocLine(String label, RocAnalysis.Roc roc) {}

	/** The FROC curve, its band and the seven CPM points. */
	public static BufferedImage froc(FrocEvaluation.Result result, String title) {
		Canvas c = new Canvas(WIDTH, HEIGHT, 100, 40, 70, 90);
		c.title(title);
		double lo = -3, hi = 3;
		DoubleUnaryOperator px = fp -> c.x(lo, hi, Math.log(fp) / Math.log(2));
		DoubleUnaryOperator py = s -> c.y(0, 1, s);
		for (int i = 0; i < FrocEvaluation.FP_LEVELS.length; i++) c.verticalGrid(px.applyAsDouble(FrocEvaluation.FP_LEVELS[i]), FP_TICK_LABELS[i]);
		for (int k = 0; k <= 10; k++) c.horizontalGrid(py.applyAsDouble(k / 10.0), String.format(Locale.ROOT, "%.1f", k / 10.0));

		List<String> legend = new ArrayList<>();
		List<Stroke> legendStrokes = new ArrayList<>();
		List<Color> legendColors = new ArrayList<>();
		FrocEvaluation.Bootstrap b = result.bootstrap();
		if (b != null && b.usable() > 0) {
			double[] levels = b.levels(), low = b.low(), high = b.high();
			Path2D band = new Path2D.Double();
			for (int i = 0; i < levels.length; i++) {
				double x = px.applyAsDouble(levels[i]), y = py.applyAsDouble(low[i]);
				if (i == 0) band.moveTo(x, y);
				else band.lineTo(x, y);
			}
			for (int i = levels.length - 1; i >= 0; i--) band.lineTo(px.applyAsDouble(levels[i]), py.applyAsDouble(high[i]));
			band.closePath();
			c.g.setColor(new Color(CURVE.getRed(), CURVE.getGreen(), CURVE.getBlue(), 48));
			c.g.fill(band);
			Stroke dotted = new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1, new float[] { 2, 4 }, 0);
			c.polyline(levels, low, px, py, CURVE, dotted);
			c.polyline(levels, high, px, py, CURVE, dotted);
			legend.add(String.format(Locale.ROOT, "%d%% band, bootstrap over scans (%d resamples)", Math.round(b.confidence() * 100), b.samples()));
			legendStrokes.add(new BasicStroke(10f));
			legendColors.add(new Color(CURVE.getRed(), CURVE.getGreen(), CURVE.getBlue(), 60));
		}
		int samples = 601;
		double[] xs = new double[samples], ys = new double[samples];
		for (int i = 0; i < samples; i++) {
			xs[i] = Math.pow(2, lo + (hi - lo) * i / (samples - 1));
			ys[i] = result.curve().sensitivityAt(xs[i]);
		}
		Stroke thick = new BasicStroke(3f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
		c.polyline(xs, ys, px, py, CURVE, thick);
		legend.add(0, String.format(Locale.ROOT, "FROC, CPM %.3f%s", result.cpm(), b != null && b.usable() > 0
			? String.format(Locale.ROOT, " (95%% CI %.3f–%.3f)", b.cpmLow(), b.cpmHigh()) : ""));
		legendStrokes.add(0, thick);
		legendColors.add(0, CURVE);

		c.g.setFont(c.small);
		for (int i = 0; i < FrocEvaluation.FP_LEVELS.length; i++) {
			double x = px.applyAsDouble(FrocEvaluation.FP_LEVELS[i]), y = py.applyAsDouble(result.sensitivity()[i]);
			c.g.setColor(CURVE);
			c.g.fill(new Ellipse2D.Double(x - 5, y - 5, 10, 10));
			c.g.setColor(TEXT);
			String label = String.format(Locale.ROOT, "%.3f", result.sensitivity()[i]);
			int w = c.g.getFontMetrics().stringWidth(label);
			double lx = Math.min(Math.max(x - w / 2.0, c.left + 2), c.right - w - 2);
			c.g.drawString(label, (float) lx, (float) Math.max(c.top + 14, y - 10));
		}
		c.axes("Average number of false positives per scan (log scale)", "Sensitivity");
		FrocEvaluation.Counts n = result.counts();
		c.legend(legend, legendStrokes, legendColors, String.format(Locale.ROOT, "%d scans, %d nodules, %d hits, %d false positives",
			n.scans(), n.nodules(), n.truePositives(), n.falsePositives()));
		return c.done();
	}

	/** ROC curves on one chart, with the chance diagonal. */
	public static BufferedImage roc(String title, List<RocLine> lines) {
		Canvas c = new Canvas(HEIGHT + 140, HEIGHT, 100, 40, 70, 90);
		c.title(title);
		DoubleUnaryOperator px = v -> c.x(0, 1, v), py = v -> c.y(0, 1, v);
		for (int k = 0; k <= 10; k++) {
			String label = String.format(Locale.ROOT, "%.1f", k / 10.0);
			c.verticalGrid(px.applyAsDouble(k / 10.0), label);
			c.horizontalGrid(py.applyAsDouble(k / 10.0), label);
		}
		c.g.setColor(Color.GRAY);
		c.g.setStroke(new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1, new float[] { 6, 6 }, 0));
		c.g.draw(new Line2D.Double(px.applyAsDouble(0), py.applyAsDouble(0), px.applyAsDouble(1), py.applyAsDouble(1)));
		List<String> legend = new ArrayList<>();
		List<Stroke> strokes = new ArrayList<>();
		List<Color> colors = new ArrayList<>();
		Color[] palette = { CURVE, SECOND, new Color(0x2c, 0x8c, 0x3c), new Color(0x90, 0x30, 0xa0) };
		for (int i = 0; i < lines.size(); i++) {
			Stroke s = new BasicStroke(i == 0 ? 3f : 2.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
			Color col = palette[i % palette.length];
			c.polyline(lines.get(i).roc().fpr(), lines.get(i).roc().tpr(), px, py, col, s);
			legend.add(lines.get(i).label());
			strokes.add(s);
			colors.add(col);
		}
		c.axes("False positive rate (benign called malignant)", "True positive rate (malignant found)");
		c.legend(legend, strokes, colors, null);
		return c.done();
	}

	/** PNG bytes of an image. */
	public static byte[] png(BufferedImage image) throws IOException {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		if (!ImageIO.write(image, "png", out)) throw new IOException("No PNG writer in this Java runtime");
		return out.toByteArray();
	}

	/** A white image with a plot area and the drawing helpers both charts share. */
	private static final class Canvas {
		final BufferedImage image;
		final Graphics2D g;
		final int left, right, top, bottom;
		final Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 22), label = new Font(Font.SANS_SERIF, Font.PLAIN, 18),
			tick = new Font(Font.SANS_SERIF, Font.PLAIN, 16), small = new Font(Font.SANS_SERIF, Font.PLAIN, 14);

		Canvas(int width, int height, int marginLeft, int marginRight, int marginTop, int marginBottom) {
			image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
			g = image.createGraphics();
			g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
			g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
			g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
			g.setColor(Color.WHITE);
			g.fillRect(0, 0, width, height);
			left = marginLeft;
			right = width - marginRight;
			top = marginTop;
			bottom = height - marginBottom;
		}

		double x(double lo, double hi, double v) { return left + (v - lo) / (hi - lo) * (right - left); }

		double y(double lo, double hi, double v) { return bottom - (v - lo) / (hi - lo) * (bottom - top); }

		void title(String text) {
			g.setFont(titleFont);
			g.setColor(TEXT);
			int w = g.getFontMetrics().stringWidth(text);
			g.drawString(text, (left + right - w) / 2f, top - 24);
		}

		void verticalGrid(double x, String label) {
			g.setColor(GRID);
			g.setStroke(new BasicStroke(1f));
			g.draw(new Line2D.Double(x, top, x, bottom));
			g.setColor(TEXT);
			g.draw(new Line2D.Double(x, bottom, x, bottom + 6));
			g.setFont(tick);
			int w = g.getFontMetrics().stringWidth(label);
			g.drawString(label, (float) (x - w / 2.0), bottom + 26);
		}

		void horizontalGrid(double y, String label) {
			g.setColor(GRID);
			g.setStroke(new BasicStroke(1f));
			g.draw(new Line2D.Double(left, y, right, y));
			g.setColor(TEXT);
			g.draw(new Line2D.Double(left - 6, y, left, y));
			g.setFont(tick);
			FontMetrics fm = g.getFontMetrics();
			g.drawString(label, left - 10 - fm.stringWidth(label), (float) (y + fm.getAscent() / 2.0 - 2));
		}

		void polyline(double[] xs, double[] ys, DoubleUnaryOperator px, DoubleUnaryOperator py, Color color, Stroke stroke) {
			Path2D path = new Path2D.Double();
			boolean open = false;
			for (int i = 0; i < xs.length; i++) {
				if (!Double.isFinite(ys[i])) {
					open = false;
					continue;
				}
				double x = px.applyAsDouble(xs[i]), y = py.applyAsDouble(ys[i]);
				if (!open) path.moveTo(x, y);
				else path.lineTo(x, y);
				open = true;
			}
			g.setColor(color);
			g.setStroke(stroke);
			java.awt.Shape clip = g.getClip();
			g.clip(new Rectangle2D.Double(left - 2, top - 2, right - left + 4, bottom - top + 4));
			g.draw(path);
			g.setClip(clip);
		}

		void axes(String xLabel, String yLabel) {
			g.setColor(TEXT);
			g.setStroke(new BasicStroke(1.5f));
			g.draw(new Rectangle2D.Double(left, top, right - left, bottom - top));
			g.setFont(label);
			FontMetrics fm = g.getFontMetrics();
			g.drawString(xLabel, (left + right - fm.stringWidth(xLabel)) / 2f, bottom + 62);
			Graphics2D r = (Graphics2D) g.create();
			r.rotate(-Math.PI / 2);
			r.drawString(yLabel, -(top + bottom + fm.stringWidth(yLabel)) / 2f, left - 56f);
			r.dispose();
		}

		/** A legend box in the lower right corner of the plot, with an optional note line. */
		void legend(List<String> entries, List<Stroke> strokes, List<Color> colors, String note) {
			g.setFont(tick);
			FontMetrics fm = g.getFontMetrics();
			int line = fm.getHeight() + 6, sample = 36, pad = 12;
			int width = 0;
			for (String e : entries) width = Math.max(width, fm.stringWidth(e) + sample + 10);
			if (note != null) width = Math.max(width, g.getFontMetrics(small).stringWidth(note));
			int rows = entries.size() + (note != null ? 1 : 0);
			int w = width + 2 * pad, h = rows * line + 2 * pad - 6;
			int x0 = right - w - 14, y0 = bottom - h - 14;
			g.setColor(new Color(255, 255, 255, 235));
			g.fillRect(x0, y0, w, h);
			g.setColor(Color.GRAY);
			g.setStroke(new BasicStroke(1f));
			g.drawRect(x0, y0, w, h);
			for (int i = 0; i < entries.size(); i++) {
				int yMid = y0 + pad + i * line + line / 2 - 3;
				g.setColor(colors.get(i));
				g.setStroke(strokes.get(i));
				g.draw(new Line2D.Double(x0 + pad, yMid, x0 + pad + sample, yMid));
				g.setColor(TEXT);
				g.drawString(entries.get(i), x0 + pad + sample + 10, yMid + fm.getAscent() / 2 - 2);
			}
			if (note != null) {
				g.setFont(small);
				g.setColor(Color.DARK_GRAY);
				g.drawString(note, x0 + pad, y0 + pad + entries.size() * line + line / 2 + 2);
			}
		}

		BufferedImage done() {
			g.dispose();
			return image;
		}
	}
}
