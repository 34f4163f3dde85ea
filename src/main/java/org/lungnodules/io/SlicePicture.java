package org.lungnodules.io;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.imageio.ImageIO;

import org.lungnodules.io.AtomicFiles;
import org.lungnodules.ct.CtVolume;

/**
 * A PNG of one axial CT slice in a lung window, with optional circles and labels: what the demo,
 * the phantom preview and the README show. Plain Java 2D, so it works headless and without ImageJ.
 */
public final class SlicePicture {

	/** A circle to draw: centre (row, col) in voxels, radius in voxels, colour and label. */
	public record Mark(double row, double col, double radiusVoxels, Color color, String label) {}

	/** The usual lung window: level −600 HU, width 1500 HU. */
	public static final double LUNG_LEVEL = -600, LUNG_WIDTH = 1500;

	private final CtVolume volume;
	private final int index;
	private final List<Mark> marks = new ArrayList<>();
	private String title;

	public SlicePicture(CtVolume volume, int index) {
		if (index < 0 || index >= volume.depth())
			throw new IllegalArgumentException("Slice " + index + " is outside the CT (0.." + (volume.depth() - 1) + ")");
		this.volume = volume;
		this.index = index;
	}

	public SlicePicture mark(Mark m) {
		marks.add(m);
		return this;
	}

	public SlicePicture title(String t) {
		title = t;
		return this;
	}

	/** The caption's title, or null for the series UID. */
	public String title() { return title; }

	/** The circles drawn so far, in drawing order. */
	public List<Mark> marks() { return List.copyOf(marks); }

	/** The slice shown. */
	public int index() { return index; }

	/** Renders at a scale that makes small CTs readable, and pixels square in millimetres. */
	public BufferedImage render() {
		int w = volume.width(), h = volume.height();
		float[] hu = new float[w * h];
		volume.copySlice(index, hu, 0, -1024f, 3071f);
		double[] sp = volume.geometry().spacing();
		double scale = Math.max(1, 512.0 / Math.max(w, h));
		double sx = scale, sy = scale * sp[1] / sp[0];
		int outW = (int) Math.round(w * sx), outH = (int) Math.round(h * sy);
		BufferedImage gray = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
		double lo = LUNG_LEVEL - LUNG_WIDTH / 2;
		byte[] px = ((java.awt.image.DataBufferByte) gray.getRaster().getDataBuffer()).getData();
		for (int i = 0; i < px.length; i++) {
			double v = (hu[i] - lo) / LUNG_WIDTH * 255;
			px[i] = (byte) Math.max(0, Math.min(255, (int) Math.round(v)));
		}
		BufferedImage out = new BufferedImage(outW, outH, BufferedImage.TYPE_INT_RGB);
		Graphics2D g = out.createGraphics();
		g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
		g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
		g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
		g.drawImage(gray, 0, 0, outW, outH, null);
		g.setStroke(new BasicStroke(2f));
		g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
		for (Mark m : marks) {
			double cx = (m.col() + 0.5) * sx, cy = (m.row() + 0.5) * sy;
			double rx = Math.max(3, m.radiusVoxels() * sx), ry = Math.max(3, m.radiusVoxels() * sy);
			g.setColor(m.color());
			g.draw(new Ellipse2D.Double(cx - rx, cy - ry, 2 * rx, 2 * ry));
			if (m.label() != null && !m.label().isEmpty()) {
				int textW = g.getFontMetrics().stringWidth(m.label());
				// Right of the circle when it fits, else left of it, so labels never leave the picture.
				double tx = cx + rx + 3 + textW <= outW ? cx + rx + 3 : cx - rx - 3 - textW;
				g.drawString(m.label(), (int) Math.max(2, tx), (int) Math.max(14, cy - ry));
			}
		}
		String caption = (title == null ? volume.seriesUid() : title) + "  (slice " + index + ")";
		g.setColor(Color.WHITE);
		g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
		g.drawString(caption, 6, outH - 6);
		g.dispose();
		return out;
	}

	/** Writes the PNG atomically. */
	public void write(Path png) throws IOException {
		writePng(render(), png);
	}

	/** Pictures side by side, {@code columns} to a row, on black. */
	public static BufferedImage montage(List<BufferedImage> pictures, int columns) {
		if (pictures.isEmpty()) throw new IllegalArgumentException("No pictures to put together");
		int cw = 0, ch = 0;
		for (BufferedImage p : pictures) {
			cw = Math.max(cw, p.getWidth());
			ch = Math.max(ch, p.getHeight());
		}
		int cols = Math.min(columns, pictures.size()), rows = (pictures.size() + cols - 1) / cols;
		BufferedImage out = new BufferedImage(cols * cw, rows * ch, BufferedImage.TYPE_INT_RGB);
		Graphics2D g = out.createGraphics();
		for (int i = 0; i < pictures.size(); i++) g.drawImage(pictures.get(i), (i % cols) * cw, (i / cols) * ch, null);
		g.dispose();
		return out;
	}

	/** A finished picture, ready to write. */
	public record Painting(BufferedImage image) {
		public void write(Path png) throws IOException {
			writePng(image, png);
		}
	}

	/** Writes any picture as a PNG, atomically. */
	public static void writePng(BufferedImage img, Path png) throws IOException {
		AtomicFiles.write(png, out -> {
			if (!ImageIO.write(img, "png", out)) throw new IOException("No PNG writer available");
		});
	}
}
