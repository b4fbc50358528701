# copydesk API image. Redis runs in its own container (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shingling ./shingling
COPY service ./service
COPY seeds ./seeds
RUN pip install --no-cache-dir . && useradd --create-home copydesk
USER copydesk
EXPOSE 8000
# Inside the container the API listens on all interfaces; compose publishes it
# on the host's loopback only.
CMD ["copydesk", "serve", "--host", "0.0.0.0", "--port", "8000"]
