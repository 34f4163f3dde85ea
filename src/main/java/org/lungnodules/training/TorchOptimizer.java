package org.lungnodules.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;

import org.lungnodules.io.Tensor;

/**
 * PyTorch's SGD and Adam over DJL parameters, with PyTorch's exact update order and a state dict in
 * PyTorch's layout, so that a run can be resumed bit-for-bit and a checkpoint looks like one that
 * {@code torch.save} wrote.
 * <p>
 * Why not DJL's optimizers: DJL's {@code Sgd} keeps MXNet's form ({@code state = μ·state + lr·g;
 * w -= state}) where PyTorch keeps {@code buf = μ·buf + g; w -= lr·buf}. The two agree only while
 * lr never changes and then still round differently; and DJL keeps its state private, so it cannot
 * be saved for resuming.
 * <p>
 * Parameters are indexed as PyTorch's {@code model.parameters()} (state-dict order without
 * buffers); frozen parameters keep their index but are never updated and get no state, as in
 * PyTorch where a parameter without a gradient is skipped.
 */
public abstract class TorchOptimizer {

	protected final List<Parameter> parameters;
	protected final boolean[] trainable;
	protected final double lr, weightDecay;

	protected TorchOptimizer(List<Parameter> parameters, boolean[] trainable, double lr, double weightDecay) {
		if (parameters.size() != trainable.length) throw new IllegalArgumentException("one trainable flag per parameter");
		if (!(lr > 0) || !(weightDecay >= 0)) throw new IllegalArgumentException("need lr > 0 and weight_decay >= 0, got lr=" + lr + ", weight_decay=" + weightDecay);
		this.parameters = List.copyOf(parameters);
		this.trainable = trainable.clone();
		this.lr = lr;
		this.weightDecay = weightDecay;
	}

	/** PyTorch's class name: "SGD" or "Adam". */
	public abstract String name();

	/**
	 * One update from the gradients that backward() left on the trainable parameters, then zeroes
	 * those gradients (PyTorch accumulates them, so the next backward would add to them).
	 */
	public final void step() {
		try (NDScope scope = new NDScope()) {
			for (int i = 0; i < parameters.size(); i++) {
				if (!trainable[i]) continue;
				NDArray array = parameters.get(i).getArray();
				NDArray grad = array.getGradient();
				// detach(): an update in place on the leaf itself would be recorded by autograd
				NDArray weight = array.stopGradient();
				NDArray g = weightDecay == 0 ? grad : grad.add(weight.mul((float) weightDecay));
				update(i, weight, g);
				grad.subi(grad);
			}
		}
	}

	/** Updates {@code weight} in place from gradient {@code g} (weight decay already added). */
	protected abstract void update(int index, NDArray weight, NDArray g);

	/** Keeps a state array beyond the step's scope and on the parameter's device. */
	protected static NDArray keep(NDArray a) {
		NDScope.unregister(a);
		return a;
	}

	/** {@code {'state': {index: {...}}, 'param_groups': [{..., 'params': [0..n-1]}]}}, as torch writes it. */
	public final Map<String, Object> stateDict() {
		Map<Long, Object> state = new LinkedHashMap<>();
		for (int i = 0; i < parameters.size(); i++) {
			Map<String, Object> s = parameterState(i);
			if (s != null) state.put((long) i, s);
		}
		Map<String, Object> group = new LinkedHashMap<>(hyperParameters());
		List<Object> ids = new ArrayList<>();
		for (int i = 0; i < parameters.size(); i++) ids.add((long) i);
		group.put("params", ids);
		Map<String, Object> out = new LinkedHashMap<>();
		out.put("state", state);
		out.put("param_groups", List.of(group));
		return out;
	}

	/**
	 * Restores the state written by {@link #stateDict()} (hyper-parameters come from the settings,
	 * not from the file). Integer keys are accepted as Long or String: pickle keeps them as int.
	 *
	 * @throws IllegalArgumentException naming what does not fit
	 */
	public final void loadStateDict(Object stateDict) {
		if (!(stateDict instanceof Map<?, ?> root) || !(root.get("state") instanceof Map<?, ?> state))
			throw new IllegalArgumentException("optimizer_state has no 'state' dict");
		resetState();
		for (Map.Entry<?, ?> e : state.entrySet()) {
			int index;
			try {
				index = Integer.parseInt(e.getKey().toString());
			} catch (NumberFormatException ex) {
				throw new IllegalArgumentException("optimizer_state: parameter index '" + e.getKey() + "' is not a number");
			}
			if (index < 0 || index >= parameters.size())
				throw new IllegalArgumentException("optimizer_state: parameter index " + index + " out of range (" + parameters.size() + " parameters)");
			if (!(e.getValue() instanceof Map<?, ?> s)) throw new IllegalArgumentException("optimizer_state: state of " + index + " is not a dict");
			loadParameterState(index, s);
		}
	}

	protected abstract Map<String, Object> hyperParameters();

	/** The state of parameter i, or null when it has none yet. */
	protected abstract Map<String, Object> parameterState(int index);

	protected abstract void loadParameterState(int index, Map<?, ?> state);

	protected abstract void resetState();

	protected static Tensor toTensor(NDArray a) {
		return Tensor.ofFloats(a.getShape().getShape(), a.toFloatArray());
	}

	/** A state tensor as an array shaped like parameter {@code index}, on its device. */
	protected final NDArray fromTensor(int index, Object value, String what) {
		NDArray like = parameters.get(index).getArray();
		if (!(value instanceof Tensor t)) throw new IllegalArgumentException("optimizer_state: " + what + " of parameter " + index + " is missing");
		if (!Arrays.equals(t.shape(), like.getShape().getShape()))
			throw new IllegalArgumentException("optimizer_state: " + what + " of parameter " + index + " has shape " + Arrays.toString(t.shape()) +
				", the parameter " + like.getShape());
		NDArray a = like.getManager().create(t.toFloatArray(), like.getShape()).toDevice(like.getDevice(), false);
		return a;
	}

	/** torch.optim.SGD: {@code buf = μ·buf + g} (buf = g on the first step), {@code w -= lr·buf}; no dampening, not Nesterov. */
	public static final class Sgd extends TorchOptimizer {
		private final double momentum;
		private final NDArray[] buffers;

		public Sgd(List<Parameter> parameters, boolean[] trainable, double lr, double momentum, double weightDecay) {
			super(parameters, trainable, lr, weightDecay);
			if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
			this.momentum = momentum;
			buffers = new NDArray[parameters.size()];
		}

		@Override
		public String name() { return "SGD"; }

		@Override
		protected void update(int i, NDArray weight, NDArray g) {
			NDArray direction = g;
			if (momentum != 0) {
				if (buffers[i] == null) buffers[i] = keep(g.duplicate());
				else buffers[i].muli((float) momentum).addi(g);
				direction = buffers[i];
			}
			weight.subi(direction.mul((float) lr));
		}

		@Override
		protected Map<String, Object> hyperParameters() {
			Map<String, Object> m = new LinkedHashMap<>();
			m.put("lr", lr);
			m.put("momentum", momentum);
			m.put("dampening", 0.0);
			m.put("weight_decay", weightDecay);
			m.put("nesterov", false);
			m.put("maximize", false);
			m.put("foreach", null);
			m.put("differentiable", false);
			m.put("fused", null);
			return m;
		}

		@Override
		protected Map<String, Object> parameterState(int i) {
			if (buffers[i] == null) return null;
			Map<String, Object> m = new LinkedHashMap<>();
			m.put("momentum_buffer", toTensor(buffers[i]));
			return m;
		}

		@Override
		protected void loadParameterState(int i, Map<?, ?> s) {
			if (momentum == 0) return; // PyTorch stores momentum_buffer None then; nothing to restore
			buffers[i] = fromTensor(i, s.get("momentum_buffer"), "momentum_buffer");
		}

		@Override
		protected void resetState() {
			for (int i = 0; i < buffers.length; i++) {
				if (buffers[i] != null) buffers[i].close();
				buffers[i] = null;
			}
		}
	}

	/**
	 * torch.optim.Adam (not AMSGrad): {@code m = β1·m + (1−β1)·g}, {@code v = β2·v + (1−β2)·g²},
	 * {@code w −= (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + ε)}, in that order of operations.
	 */
	public static final class Adam extends TorchOptimizer {
		private final double beta1, beta2, eps;
		private final long[] steps;
		private final NDArray[] expAvg, expAvgSq;

		public Adam(List<Parameter> parameters, boolean[] trainable, double lr, double beta1, double beta2, double eps, double weightDecay) {
			super(parameters, trainable, lr, weightDecay);
			this.beta1 = beta1;
			this.beta2 = beta2;
			this.eps = eps;
			steps = new long[parameters.size()];
			expAvg = new NDArray[parameters.size()];
			expAvgSq = new NDArray[parameters.size()];
		}

		/** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8. */
		public Adam(List<Parameter> parameters, boolean[] trainable, double lr, double weightDecay) {
			this(parameters, trainable, lr, 0.9, 0.999, 1e-8, weightDecay);
		}

		@Override
		public String name() { return "Adam"; }

		@Override
		protected void update(int i, NDArray weight, NDArray g) {
			if (expAvg[i] == null) {
				expAvg[i] = keep(weight.zerosLike());
				expAvgSq[i] = keep(weight.zerosLike());
			}
			long t = ++steps[i];
			// lerp form, as PyTorch's single-tensor Adam: m += (g − m)·(1−β1)
			expAvg[i].addi(g.sub(expAvg[i]).mul((float) (1 - beta1)));
			expAvgSq[i].muli((float) beta2).addi(g.mul(g).mul((float) (1 - beta2)));
			double bias1 = 1 - Math.pow(beta1, t);
			double bias2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
			NDArray denom = expAvgSq[i].sqrt().div((float) bias2Sqrt).add((float) eps);
			weight.subi(expAvg[i].div(denom).mul((float) (lr / bias1)));
		}

		@Override
		protected Map<String, Object> hyperParameters() {
			Map<String, Object> m = new LinkedHashMap<>();
			m.put("lr", lr);
			m.put("betas", List.of(beta1, beta2));
			m.put("eps", eps);
			m.put("weight_decay", weightDecay);
			m.put("amsgrad", false);
			m.put("maximize", false);
			m.put("foreach", null);
			m.put("capturable", false);
			m.put("differentiable", false);
			m.put("fused", null);
			return m;
		}

		@Override
		protected Map<String, Object> parameterState(int i) {
			if (expAvg[i] == null) return null;
			Map<String, Object> m = new LinkedHashMap<>();
			// torch ≥ 1.12 keeps 'step' as a float32 0-d tensor
			m.put("step", Tensor.ofFloats(new long[0], new float[] { steps[i] }));
			m.put("exp_avg", toTensor(expAvg[i]));
			m.put("exp_avg_sq", toTensor(expAvgSq[i]));
			return m;
		}

		@Override
		protected void loadParameterState(int i, Map<?, ?> s) {
			Object step = s.get("step");
			if (step instanceof Tensor t && t.numel() == 1) steps[i] = (long) t.toFloatArray()[0];
			else if (step instanceof Number n) steps[i] = n.longValue();
			else throw new IllegalArgumentException("optimizer_state: step of parameter " + i + " is missing");
			expAvg[i] = fromTensor(i, s.get("exp_avg"), "exp_avg");
			expAvgSq[i] = fromTensor(i, s.get("exp_avg_sq"), "exp_avg_sq");
		}

		@Override
		protected void resetState() {
			Arrays.fill(steps, 0);
			for (NDArray[] arrays : List.of(expAvg, expAvgSq))
				for (int i = 0; i < arrays.length; i++) {
					if (arrays[i] != null) arrays[i].close();
					arrays[i] = null;
				}
		}
	}
}
